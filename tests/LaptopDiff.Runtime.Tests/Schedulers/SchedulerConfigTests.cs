using System.Globalization;
using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Runtime.Tests.Schedulers;

/// <summary>from_config's derivation against the configs diffusers used in the fixture runs, and the refusals.</summary>
public sealed class SchedulerConfigTests
{
    public static TheoryData<string, string> Runs => new()
    {
        { "tiny-sd15-pipe", "ddim" }, { "tiny-sd15-pipe", "euler" },
        { "tiny-sdxl-pipe", "ddim" }, { "tiny-sdxl-pipe", "euler" },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void Derived_configs_equal_diffusers_run_configs_key_by_key(string pipeline, string scheduler)
    {
        var runs = JsonNode.Parse(File.ReadAllText(TestPaths.SdPipeline($"{pipeline}.io.json")))!["pipeline_runs"]!.AsArray()
            .Where(r => (string)r!["scheduler"]! == scheduler).ToList();
        Assert.NotEmpty(runs);
        var config = SchedulerConfig.Load(TestPaths.SdPipeline($"{pipeline}/scheduler/scheduler_config.json"));
        var derived = config.For(scheduler == "ddim" ? SchedulerKind.Ddim : SchedulerKind.EulerDiscrete).ToJson();
        foreach (var run in runs)
        {
            var expected = run!["scheduler_config"]!.AsObject();
            Assert.Equal(expected.Select(e => e.Key), derived.Select(e => e.Key));          // same keys, same order
            foreach (var (key, value) in expected)
            {
                if (key == "_use_default_values")                                           // a Python set turned list: any order
                    Assert.Equal(Strings(value).Order(), Strings(derived[key]).Order());
                else
                    Assert.True(SameValue(value, derived[key]), $"{key}: expected {value?.ToJsonString()}, derived {derived[key]?.ToJsonString()}");
            }
        }
    }

    [Fact]
    public void Sd15_ships_pndm_so_ddim_is_the_default_and_keeps_its_training_options()
    {
        var config = SchedulerConfig.Load(TestPaths.SdPipeline("tiny-sd15-pipe/scheduler/scheduler_config.json"));
        Assert.Equal("PNDMScheduler", config.ClassName);
        Assert.Contains("skip_prk_steps", config.Keys);                                    // every key is read, PNDM's own included
        Assert.Equal(1, (int)config["steps_offset"]!);
        Assert.Null(config.Kind);
        Assert.Equal(SchedulerKind.Ddim, config.DefaultKind);
        var ddim = config.For(SchedulerKind.Ddim);
        Assert.True(ddim.ClassDiffers);
        Assert.Equal("PNDMScheduler", ddim.SourceClassName);
        var options = Assert.IsType<DdimOptions>(ddim.Options);
        Assert.Equal(new NoiseSchedule(), options.Schedule);                                 // scaled_linear 0.00085..0.012, T = 1000
        Assert.Equal((TimestepSpacing.Leading, 1, false, false, PredictionType.Epsilon),
            (options.Spacing, options.StepsOffset, options.ClipSample, options.SetAlphaToOne, options.Prediction));
        // Euler's own default spacing applies: the PNDM file has none
        var euler = Assert.IsType<EulerDiscreteOptions>(config.For(SchedulerKind.EulerDiscrete).Options);
        Assert.Equal((TimestepSpacing.Linspace, FinalSigmas.Zero), (euler.Spacing, euler.FinalSigmas));
        Assert.IsType<DdimScheduler>(ddim.CreateScheduler());
    }

    [Fact]
    public void Sdxl_ships_euler_which_is_its_default()
    {
        var config = SchedulerConfig.Load(TestPaths.SdPipeline("tiny-sdxl-pipe/scheduler/scheduler_config.json"));
        Assert.Equal(SchedulerKind.EulerDiscrete, config.DefaultKind);
        var euler = config.For(SchedulerKind.EulerDiscrete);
        Assert.False(euler.ClassDiffers);
        Assert.Equal(TimestepSpacing.Leading, euler.Options.Spacing);
        Assert.IsType<EulerDiscreteScheduler>(euler.CreateScheduler());
        Assert.True(config.For(SchedulerKind.Ddim).ClassDiffers);
    }

    [Fact]
    public void Keys_listed_as_defaulted_take_the_target_class_default()
    {
        var config = Parse("""{"_class_name": "DDIMScheduler", "timestep_spacing": "leading", "steps_offset": 1, "_use_default_values": ["timestep_spacing"]}""");
        var euler = config.For(SchedulerKind.EulerDiscrete);
        Assert.Equal(TimestepSpacing.Linspace, euler.Options.Spacing);
        Assert.Equal(1, euler.Options.StepsOffset);
        Assert.Contains("timestep_spacing", euler.DefaultedKeys);
        Assert.DoesNotContain("steps_offset", euler.DefaultedKeys);
        Assert.Equal("EulerDiscreteScheduler", (string)euler.ToJson()["_class_name"]!);
        Assert.Equal(TimestepSpacing.Leading, config.For(SchedulerKind.Ddim).Options.Spacing);   // DDIM's default is leading
    }

    [Fact]
    public void Unknown_keys_and_other_classes_options_are_kept_but_not_used()
    {
        var config = Parse("""{"_class_name": "DDIMScheduler", "thresholding": true, "skip_prk_steps": true, "made_up": 3}""");
        var euler = config.For(SchedulerKind.EulerDiscrete);                                 // Euler has no thresholding
        var json = euler.ToJson();
        Assert.True((bool)json["thresholding"]!);
        Assert.Equal(3, (int)json["made_up"]!);
        Assert.Throws<DiffusersConfigException>(() => config.For(SchedulerKind.Ddim));     // DDIM would threshold
    }

    [Theory]
    [InlineData(SchedulerKind.Ddim, "thresholding", "true")]
    [InlineData(SchedulerKind.Ddim, "rescale_betas_zero_snr", "true")]
    [InlineData(SchedulerKind.EulerDiscrete, "rescale_betas_zero_snr", "true")]
    [InlineData(SchedulerKind.EulerDiscrete, "use_karras_sigmas", "true")]
    [InlineData(SchedulerKind.EulerDiscrete, "use_exponential_sigmas", "true")]
    [InlineData(SchedulerKind.EulerDiscrete, "use_beta_sigmas", "true")]
    [InlineData(SchedulerKind.EulerDiscrete, "interpolation_type", "\"log_linear\"")]
    [InlineData(SchedulerKind.EulerDiscrete, "final_sigmas_type", "\"sigma_max\"")]
    [InlineData(SchedulerKind.Ddim, "beta_schedule", "\"sigmoid\"")]
    [InlineData(SchedulerKind.Ddim, "prediction_type", "\"flow\"")]
    [InlineData(SchedulerKind.Ddim, "prediction_type", "\"original_sample\"")]
    [InlineData(SchedulerKind.EulerDiscrete, "timestep_spacing", "\"karras\"")]
    [InlineData(SchedulerKind.Ddim, "steps_offset", "-1")]
    [InlineData(SchedulerKind.Ddim, "clip_sample", "\"yes\"")]
    [InlineData(SchedulerKind.Ddim, "clip_sample_range", "0")]
    [InlineData(SchedulerKind.Ddim, "num_train_timesteps", "1")]
    [InlineData(SchedulerKind.Ddim, "beta_end", "1.5")]
    public void Unsupported_values_are_refused_naming_file_key_and_value(SchedulerKind kind, string key, string value)
    {
        var config = Parse($$"""{"_class_name": "PNDMScheduler", "{{key}}": {{value}}}""");
        var e = Assert.Throws<DiffusersConfigException>(() => config.For(kind));
        Assert.Equal("folder/scheduler/scheduler_config.json", e.Path);
        Assert.Contains(key, e.Option);
        Assert.Contains(value.Trim('"'), e.Message);
    }

    [Fact]
    public void Continuous_timesteps_are_refused_only_where_they_change_the_computation()
    {
        Assert.Equal(PredictionType.Epsilon, Parse("""{"timestep_type": "continuous"}""").For(SchedulerKind.EulerDiscrete).Options.Prediction);
        var e = Assert.Throws<DiffusersConfigException>(() =>
            Parse("""{"timestep_type": "continuous", "prediction_type": "v_prediction"}""").For(SchedulerKind.EulerDiscrete));
        Assert.Equal("timestep_type", e.Option);
    }

    [Fact]
    public void Trained_betas_and_the_cosine_schedule_are_read()
    {
        var betas = Enumerable.Range(0, 10).Select(i => 0.01 + 0.01 * i).ToArray();
        var trained = Parse($$"""{"num_train_timesteps": 10, "trained_betas": [{{string.Join(", ", betas.Select(b => b.ToString("R", CultureInfo.InvariantCulture)))}}]}""");
        Assert.Equal(betas, trained.For(SchedulerKind.Ddim).Options.Schedule.Betas());
        var cosine = Parse("""{"beta_schedule": "squaredcos_cap_v2"}""").For(SchedulerKind.EulerDiscrete).Options.Schedule;
        Assert.Equal(BetaSchedule.SquaredCosCapV2, cosine.Kind);
        var e = Assert.Throws<DiffusersConfigException>(() => Parse("""{"trained_betas": [0.1, 0.2]}""").For(SchedulerKind.Ddim));
        Assert.Equal("trained_betas", e.Option);
        Assert.Contains("2 values for 1000 training steps", e.Message);
    }

    [Fact]
    public void Bad_files_are_input_errors()
    {
        Assert.Throws<DiffusersConfigException>(() => SchedulerConfig.Load("/nonexistent/scheduler_config.json"));
        Assert.Throws<DiffusersConfigException>(() => SchedulerConfig.Parse("{not json", "x.json"));
        Assert.Throws<DiffusersConfigException>(() => SchedulerConfig.Parse("[1]", "x.json"));
        Assert.Throws<DiffusersConfigException>(() => SchedulerConfig.Parse("""{"_class_name": 3}""", "x.json"));
        Assert.Throws<DiffusersConfigException>(() => SchedulerConfig.Parse("""{"_use_default_values": "beta_end"}""", "x.json"));
    }

    private static SchedulerConfig Parse(string json) => SchedulerConfig.Parse(json, "folder/scheduler/scheduler_config.json");

    private static IEnumerable<string> Strings(JsonNode? list) => list!.AsArray().Select(e => (string)e!);

    /// <summary>JSON equality with numbers compared by value (Python writes 1.0 where .NET writes 1).</summary>
    private static bool SameValue(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => SameValue(p.First, p.Second)),
        (JsonValue x, JsonValue y) when x.GetValueKind() == System.Text.Json.JsonValueKind.Number && y.GetValueKind() == System.Text.Json.JsonValueKind.Number
            => double.Parse(x.ToJsonString(), CultureInfo.InvariantCulture) == double.Parse(y.ToJsonString(), CultureInfo.InvariantCulture),
        (JsonValue x, JsonValue y) => JsonNode.DeepEquals(x, y),
        _ => false,
    };
}
