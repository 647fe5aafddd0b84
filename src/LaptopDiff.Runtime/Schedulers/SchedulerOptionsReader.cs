using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Schedulers;

/// <summary>
/// Typed scheduler settings from a derived config, refusing by key and value what LaptopDiff's schedulers
/// do not compute (thresholding, Karras/exponential/beta sigmas, zero-terminal-SNR rescaling, log-linear
/// interpolation, continuous v-prediction timesteps). Options without effect where they stand
/// (dynamic_thresholding_ratio and sample_max_value without thresholding, sigma_min and sigma_max without
/// Karras/exponential/beta sigmas, clip_sample_range without clip_sample) are accepted as written.
/// </summary>
internal static class SchedulerOptionsReader
{
    public static SchedulerOptions Read(SchedulerKind kind, JsonElement config, string path)
    {
        var c = new ConfigReader(config, path);
        var schedule = ReadSchedule(c, config, path);
        RequireFalse(c, "rescale_betas_zero_snr", "zero-terminal-SNR rescaling is not implemented");
        var prediction = c.String("prediction_type") switch
        {
            "epsilon" => PredictionType.Epsilon,
            "v_prediction" => PredictionType.VPrediction,
            "sample" => PredictionType.Sample,
            "original_sample" when kind == SchedulerKind.EulerDiscrete => PredictionType.Sample,   // Euler's legacy name
            var other => throw c.Unsupported("prediction_type", Show(other), "expected epsilon, v_prediction or sample"),
        };
        var spacing = c.String("timestep_spacing") switch
        {
            "leading" => TimestepSpacing.Leading,
            "trailing" => TimestepSpacing.Trailing,
            "linspace" => TimestepSpacing.Linspace,
            var other => throw c.Unsupported("timestep_spacing", Show(other), "expected leading, trailing or linspace"),
        };
        int offset = c.Int("steps_offset") ?? 0;
        if (offset < 0) throw c.Unsupported("steps_offset", offset.ToString(CultureInfo.InvariantCulture), "must be 0 or more");

        if (kind == SchedulerKind.Ddim)
        {
            RequireFalse(c, "thresholding", "dynamic thresholding is not implemented (it is meant for pixel-space models)");
            bool clip = c.Bool("clip_sample") ?? false;                       // diffusers tests truthiness: null is false
            double range = c.Double("clip_sample_range") ?? double.NaN;
            if (clip && !(range > 0))
                throw c.Unsupported("clip_sample_range", double.IsNaN(range) ? "null" : range.ToString("R", CultureInfo.InvariantCulture), "must be a positive number to clip to");
            return new DdimOptions
            {
                Schedule = schedule, Prediction = prediction, Spacing = spacing, StepsOffset = offset,
                ClipSample = clip,
                ClipSampleRange = range,
                SetAlphaToOne = c.Bool("set_alpha_to_one") ?? false,
            };
        }

        if (c.String("interpolation_type") is var interpolation && interpolation != "linear")
            throw c.Unsupported("interpolation_type", Show(interpolation), "only linear interpolation of sigmas is implemented");
        RequireFalse(c, "use_karras_sigmas", "Karras sigmas are not implemented");
        RequireFalse(c, "use_exponential_sigmas", "exponential sigmas are not implemented");
        RequireFalse(c, "use_beta_sigmas", "beta sigmas are not implemented");
        // "continuous" only changes diffusers' computation together with v_prediction
        var timestepType = c.String("timestep_type");
        if (timestepType != "discrete" && !(timestepType == "continuous" && prediction != PredictionType.VPrediction))
            throw c.Unsupported("timestep_type", Show(timestepType), "only discrete timesteps are implemented (continuous ones with v_prediction are not)");
        var finalSigmas = c.String("final_sigmas_type") switch
        {
            "zero" => FinalSigmas.Zero,
            "sigma_min" => FinalSigmas.SigmaMin,
            var other => throw c.Unsupported("final_sigmas_type", Show(other), "expected zero or sigma_min"),
        };
        return new EulerDiscreteOptions { Schedule = schedule, Prediction = prediction, Spacing = spacing, StepsOffset = offset, FinalSigmas = finalSigmas };
    }

    private static NoiseSchedule ReadSchedule(ConfigReader c, JsonElement config, string path)
    {
        int trainSteps = c.Int("num_train_timesteps") ?? throw c.Unsupported("num_train_timesteps", "null", "expected an integer");
        if (trainSteps < 2) throw c.Unsupported("num_train_timesteps", trainSteps.ToString(CultureInfo.InvariantCulture), "at least 2 training steps");
        var kindName = c.String("beta_schedule");
        BetaSchedule kind;
        try { kind = NoiseSchedule.ParseKind(kindName ?? "null"); }
        catch (ArgumentException e) { throw c.Unsupported("beta_schedule", Show(kindName), e.Message); }

        var trained = config.TryGetProperty("trained_betas", out var list) && list.ValueKind != JsonValueKind.Null
            ? list.ValueKind == JsonValueKind.Array && list.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number)
                ? list.EnumerateArray().Select(e => e.GetDouble()).ToEquatableArray()
                : throw c.Unsupported("trained_betas", Shorten(list.GetRawText()), "expected null or a list of numbers")
            : EquatableArray<double>.Empty;
        var schedule = new NoiseSchedule
        {
            Kind = kind, TrainSteps = trainSteps, TrainedBetas = trained,
            // the cosine schedule and trained betas ignore beta_start and beta_end
            BetaStart = c.Double("beta_start") ?? double.NaN,
            BetaEnd = c.Double("beta_end") ?? double.NaN,
        };
        try { return schedule.Validate(); }
        catch (ArgumentException e) { throw new DiffusersConfigException(path, trained.Count > 0 ? "trained_betas" : "beta_start, beta_end", e.Message); }
    }

    private static void RequireFalse(ConfigReader c, string key, string why)
    {
        if (c.Bool(key) == true) throw c.Unsupported(key, "true", why);
    }

    private static string Show(string? value) => value is null ? "null" : $"'{value}'";

    private static string Shorten(string raw) => raw.Length <= 60 ? raw : raw[..57] + "...";
}
