using System.Security.Cryptography;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pruning;

/// <summary>Calibration files, the noise schedule and the seeded draws of the sweep.</summary>
public sealed class CalibrationTests
{
    [Fact]
    public void Schedules_reach_the_published_terminal_signal_levels()
    {
        // Lin et al. 2024 ("Common diffusion noise schedules and sample steps are flawed"): sqrt(acp_T) of SD is 0.068265,
        // of DDPM's linear 1e-4..0.02 schedule 0.006353
        var sd = NoiseSchedule.StableDiffusion.AlphasCumprod();
        Assert.Equal(1000, sd.Length);
        Assert.Equal(1 - 0.00085, sd[0], 12);
        Assert.Equal(0.068265, Math.Sqrt(sd[999]), 6);
        var linear = new NoiseSchedule { Kind = BetaSchedule.Linear, BetaStart = 0.0001, BetaEnd = 0.02 }.AlphasCumprod();
        Assert.Equal(0.006353, Math.Sqrt(linear[999]), 6);
        Assert.True(sd.Zip(sd.Skip(1)).All(p => p.Second < p.First));
        Assert.Throws<ArgumentException>(() => new NoiseSchedule { TrainSteps = 1 }.Validate());
        Assert.Throws<ArgumentException>(() => NoiseSchedule.ParseKind("cosine"));
    }

    [Fact]
    public void Timesteps_are_stratified_seeded_and_cover_the_schedule()
    {
        var draw = new CalibrationNoising(100, new NoisingSettings { Seed = 3 });
        // one timestep in each of the 100 strata [10k, 10k + 10)
        Assert.Equal(Enumerable.Range(0, 100), draw.Timesteps.Select(t => t / 10).Order());
        Assert.Equal(draw.Timesteps, new CalibrationNoising(100, new NoisingSettings { Seed = 3 }).Timesteps);
        Assert.NotEqual(draw.Timesteps, new CalibrationNoising(100, new NoisingSettings { Seed = 4 }).Timesteps);
        // not tied to the file's order
        Assert.NotEqual(draw.Timesteps.Order(), draw.Timesteps);
    }

    [Fact]
    public void Noisy_inputs_follow_the_schedule_and_do_not_depend_on_the_batch()
    {
        using var folder = new SweepFolder();
        var path = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sdxl, samples: 4);
        using var set = CalibrationSet.Load(path, SweepTestKit.Layout(SweepTestKit.Sdxl));
        var noising = new CalibrationNoising(4, new NoisingSettings());
        using var scope = NewDisposeScope();
        var all = noising.Inputs(set, 0, 4);
        var tail = noising.Inputs(set, 2, 2);
        Assert.True(all.Sample[2..4].eq(tail.Sample).all().item<bool>());
        Assert.Equal(noising.Timesteps.Skip(2).Select(t => (long)t), tail.Timestep.data<long>().ToArray());
        Assert.True(all.TextEmbeds![2..4].eq(tail.TextEmbeds!).all().item<bool>());

        // x_t = sqrt(acp) x0 + sqrt(1 - acp) eps with eps ~ N(0, 1): recover eps for sample 1 and look at its statistics
        double acp = NoiseSchedule.StableDiffusion.AlphasCumprod()[noising.Timesteps[1]];
        var eps = (all.Sample[1] - Math.Sqrt(acp) * set.Latents[1]) / Math.Sqrt(1 - acp);
        Assert.InRange(eps.mean().item<float>(), -0.3, 0.3);
        Assert.InRange(eps.std().item<float>(), 0.7, 1.3);
    }

    [Fact]
    public void Synthetic_sets_are_reproducible_and_shaped_for_the_spec()
    {
        using var folder = new SweepFolder();
        var a = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sdxl, samples: 3, name: "a.safetensors");
        var b = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sdxl, samples: 3, name: "b.safetensors");
        var c = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sdxl, samples: 3, seed: 1, name: "c.safetensors");
        Assert.Equal(FileDigest.Sha256(a), FileDigest.Sha256(b));
        Assert.NotEqual(FileDigest.Sha256(a), FileDigest.Sha256(c));

        var header = SafetensorsFile.ReadHeader(a);
        Assert.Equal(CalibrationFormat.Version, header.Metadata[CalibrationFormat.FormatKey]);
        Assert.Equal(new long[] { 3, 4, 8, 8 }, header.Find("latents")!.Shape);
        Assert.Equal(new long[] { 3, 7, 32 }, header.Find("encoder_hidden_states")!.Shape);
        Assert.Equal(new long[] { 3, 24 }, header.Find("text_embeds")!.Shape);
        Assert.Equal(new long[] { 3, 6 }, header.Find("time_ids")!.Shape);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(a))), FileDigest.Sha256(a));
    }

    [Fact]
    public void Sets_of_the_wrong_shapes_for_the_spec_are_refused_with_the_tensor_named()
    {
        using var folder = new SweepFolder();
        var sdxl = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sdxl, samples: 2, name: "sdxl.safetensors");
        var e = Assert.Throws<InputException>(() => CalibrationSet.Load(sdxl, SweepTestKit.Layout(SweepTestKit.Sd15)));
        Assert.Contains("text_embeds", e.Message);

        var sd15 = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sd15, samples: 2, name: "sd15.safetensors");
        e = Assert.Throws<InputException>(() => CalibrationSet.Load(sd15, SweepTestKit.Layout(SweepTestKit.Sdxl)));
        Assert.Contains("'text_embeds' is missing", e.Message);

        var odd = folder.File("odd.safetensors");
        using (var scope = NewDisposeScope())
            SafetensorsFile.Save(odd, [new("latents", randn(2, 4, 7, 8)), new("encoder_hidden_states", randn(2, 5, 32))]);
        e = Assert.Throws<InputException>(() => CalibrationSet.Load(odd, SweepTestKit.Layout(SweepTestKit.Sd15)));
        Assert.Contains("'latents' must be [N,4,H,W]", e.Message);

        var nan = folder.File("nan.safetensors");
        using (var scope = NewDisposeScope())
            SafetensorsFile.Save(nan, [new("latents", full(2, 4, 8, 8, float.NaN)), new("encoder_hidden_states", randn(2, 5, 32))]);
        e = Assert.Throws<InputException>(() => CalibrationSet.Load(nan, SweepTestKit.Layout(SweepTestKit.Sd15)));
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void Shards_load_as_one_set_named_by_any_shard_or_the_base_name()
    {
        using var folder = new SweepFolder();
        var layout = SweepTestKit.Layout(SweepTestKit.Sd15);
        var single = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sd15, samples: 5, name: "single.safetensors");
        using var whole = CalibrationSet.Load(single, layout);
        using (var scope = NewDisposeScope())
        {
            SafetensorsFile.Save(folder.File("set-00001-of-00002.safetensors"),
                [new("latents", whole.Latents[..3]), new("encoder_hidden_states", whole.EncoderHiddenStates[..3])]);
            SafetensorsFile.Save(folder.File("set-00002-of-00002.safetensors"),
                [new("latents", whole.Latents[3..]), new("encoder_hidden_states", whole.EncoderHiddenStates[3..])]);
        }
        foreach (var name in new[] { "set-00002-of-00002.safetensors", "set.safetensors" })
        {
            using var sharded = CalibrationSet.Load(folder.File(name), layout);
            Assert.Equal(2, sharded.Files.Count);
            Assert.True(sharded.Latents.eq(whole.Latents).all().item<bool>());
            Assert.True(sharded.EncoderHiddenStates.eq(whole.EncoderHiddenStates).all().item<bool>());
        }
        File.Delete(folder.File("set-00002-of-00002.safetensors"));
        var e = Assert.Throws<FileNotFoundException>(() => CalibrationSet.Load(folder.File("set-00001-of-00002.safetensors"), layout));
        Assert.Contains("set-00002-of-00002.safetensors", e.Message);
    }
}
