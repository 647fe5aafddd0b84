using LaptopDiff.Runtime.Sampling;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Tests.Execution;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Sampling;

/// <summary>DDIM against closed forms, guidance arithmetic, and seeded determinism on a real U-Net.</summary>
public sealed class DdimSamplerTests
{
    private static readonly NoiseSchedule Linear = new() { Kind = BetaSchedule.Linear, BetaStart = 0.0001, BetaEnd = 0.02 };

    [Fact]
    public void Twenty_five_leading_steps_visit_960_down_to_0()
    {
        var sampler = new DdimSampler(Linear);
        Assert.Equal(25, sampler.Timesteps.Count);
        Assert.Equal(960, sampler.Timesteps[0]);
        Assert.Equal(0, sampler.Timesteps[^1]);
        Assert.All(sampler.Timesteps.Zip(sampler.Timesteps.Skip(1)), p => Assert.Equal(40, p.First - p.Second));
        Assert.Throws<ArgumentException>(() => new DdimSampler(Linear, 0));
        Assert.Throws<ArgumentException>(() => new DdimSampler(Linear, 1001));
    }

    [Fact]
    public void The_ideal_denoiser_of_a_single_image_lands_on_that_image_from_any_noise()
    {
        // data = one image x*: the exact eps is (x_t - sqrt(a_t) x*) / sqrt(1 - a_t), so DDIM must return x*
        var acp = Linear.AlphasCumprod();
        var target = linspace(-0.9, 0.8, 16).reshape(1, 1, 4, 4).to_type(ScalarType.Float32);
        NoisePredictor ideal = (x, t, _) => (x - Math.Sqrt(acp[t]) * target) / Math.Sqrt(1 - acp[t]);
        var sampler = new DdimSampler(Linear, steps: 10);
        using var noise = DdimSampler.InitialNoise(seed: 5, firstIndex: 0, count: 3, channels: 1, size: 4);
        using var states = zeros(3, 1, 2);
        using var result = sampler.Sample(ideal, noise, states, states, guidanceScale: 1.0);
        Assert.True(result.allclose(target.expand(3, 1, 4, 4), rtol: 0, atol: 1e-4), $"max error {(result - target).abs().max().item<float>()}");
    }

    [Fact]
    public void One_step_follows_the_ddim_update_in_double_precision()
    {
        var acp = Linear.AlphasCumprod();
        var sampler = new DdimSampler(Linear, clipSample: false);
        using var x = full(1, 1, 2, 2, 0.7f);
        using var eps = full(1, 1, 2, 2, -0.4f);
        using var next = sampler.Step(x, eps, 0);                       // 960 -> 920
        double x0 = (0.7 + Math.Sqrt(1 - acp[960]) * 0.4) / Math.Sqrt(acp[960]);
        double expected = Math.Sqrt(acp[920]) * x0 - Math.Sqrt(1 - acp[920]) * 0.4;
        Assert.Equal(expected, next[0, 0, 0, 0].item<float>(), 4);
        // the last step (0 -> the end) returns the predicted clean image itself
        using var last = sampler.Step(x, eps, 24);
        Assert.Equal((0.7 + Math.Sqrt(1 - acp[0]) * 0.4) / Math.Sqrt(acp[0]), last[0, 0, 1, 1].item<float>(), 4);
        // with clipping, the predicted x0 (about 140 here) is clipped to 1 and eps re-derived from it before stepping
        using var clipped = new DdimSampler(Linear).Step(x, eps, 0);
        double epsClipped = (0.7 - Math.Sqrt(acp[960]) * 1) / Math.Sqrt(1 - acp[960]);
        Assert.Equal(Math.Sqrt(acp[920]) * 1 + Math.Sqrt(1 - acp[920]) * epsClipped, clipped[0, 0, 1, 0].item<float>(), 4);
    }

    [Fact]
    public void Guidance_extrapolates_from_the_unconditional_to_the_conditional_prediction()
    {
        // eps = the mean of each row's states: cond rows 0.5, uncond rows -0.1; one step, guidance 3
        var sampler = new DdimSampler(Linear, steps: 1, clipSample: false);
        var batches = new List<long>();
        NoisePredictor byStates = (x, _, s) => { batches.Add(x.shape[0]); return s.mean([1, 2]).reshape(-1, 1, 1, 1).expand_as(x).contiguous(); };
        using var noise = DdimSampler.InitialNoise(1, 0, 2, 1, 2);
        using var cond = full(2, 1, 3, 0.5f);
        using var uncond = full(1, 1, 3, -0.1f);
        using var guided = sampler.Sample(byStates, noise, cond, uncond, 3.0);
        using var expectedEps = full(2, 1, 2, 2, -0.1f + 3 * (0.5f + 0.1f));
        using var expected = sampler.Step(noise, expectedEps, 0);
        Assert.True(guided.allclose(expected, rtol: 0, atol: 1e-5));
        Assert.Equal([4L], batches);                       // cond and uncond in one forward
        batches.Clear();
        using var plain = sampler.Sample(byStates, noise, cond, uncond, 1.0);
        Assert.Equal([2L], batches);
    }

    [Fact]
    public void Samples_of_a_real_unet_depend_on_seed_and_index_only()
    {
        using var unet = TinyUNets.Load(TinyUNets.Sd15);
        var predict = DdimSampler.Predictor(unet);
        var sampler = new DdimSampler(Linear, steps: 3);
        using var states = randn(3, 2, 32, generator: new Generator(1));
        using var uncond = zeros(1, 2, 32);
        using var noise = DdimSampler.InitialNoise(7, 0, 3, 4, 16);
        using var all = sampler.Sample(predict, noise, states, uncond, 4.0);
        using var lastNoise = DdimSampler.InitialNoise(7, 2, 1, 4, 16);
        using var lastAlone = sampler.Sample(predict, lastNoise, states[2..], uncond, 4.0);
        Assert.True(lastAlone.allclose(all[2..], rtol: 0, atol: 1e-4));
        using var otherSeed = DdimSampler.InitialNoise(8, 0, 3, 4, 16);
        using var other = sampler.Sample(predict, otherSeed, states, uncond, 4.0);
        Assert.False(other.allclose(all, rtol: 0, atol: 1e-2));
        Assert.True(all.isfinite().all().item<bool>());
    }
}
