using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Vae;

/// <summary>The distribution and the pipeline conventions around the VAE: clamping, scaling, shifting, pixel ranges.</summary>
public sealed class LatentConventionsTests
{
    [Fact]
    public void Moments_split_into_mean_and_clamped_log_variance()
    {
        using var scope = NewDisposeScope();
        // [1,2,1,2]: channel 0 is the mean, channel 1 the log-variance
        using var d = new DiagonalGaussian(tensor(new[] { 0.5f, -1f, -40f, (float)(2 * Math.Log(3)) }).reshape(1, 2, 1, 2));

        Assert.Equal(new[] { 0.5f, -1f }, d.Mean.data<float>().ToArray());
        Assert.Equal(new[] { -30f, (float)(2 * Math.Log(3)) }, d.LogVar.data<float>().ToArray());
        Assert.Equal(Math.Exp(-15), d.Std[0, 0, 0, 0].item<float>(), 1e-12);
        Assert.Equal(3.0, d.Std[0, 0, 0, 1].item<float>(), 5);
        Assert.Equal(new long[] { 1, 1, 1, 2 }, d.Mode().shape);
    }

    [Fact]
    public void Kl_to_the_standard_normal_sums_per_sample()
    {
        using var scope = NewDisposeScope();
        // sample 0: mean 1, logvar 0 -> 0.5 per element; sample 1: mean 0, logvar ln 2 -> (1 - ln 2) / 2 per element
        var mean = tensor(new[] { 1f, 1f, 0f, 0f }).reshape(2, 1, 1, 2);
        var logVar = tensor(new[] { 0f, 0f, (float)Math.Log(2), (float)Math.Log(2) }).reshape(2, 1, 1, 2);
        using var d = new DiagonalGaussian(cat(new[] { mean, logVar }, 1));

        var kl = d.Kl().data<float>().ToArray();
        Assert.Equal(1.0, kl[0], 6);
        Assert.Equal(1 - Math.Log(2), kl[1], 6);
    }

    [Fact]
    public void Samples_follow_the_generator_and_scale_by_the_std()
    {
        using var scope = NewDisposeScope();
        // mean 2, std 3 everywhere
        using var d = new DiagonalGaussian(cat(new[] { full(1, 4, 8, 8, 2f), full(1, 4, 8, 8, (float)(2 * Math.Log(3))) }, 1));
        var a = d.Sample(new Generator(11));
        var b = d.Sample(new Generator(11));
        var noise = randn(1, 4, 8, 8, generator: new Generator(11));

        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Close.Same((a - 2) / 3, noise, "standardised sample");
        Assert.False(d.Sample(new Generator(12)).allclose(a));
    }

    [Fact]
    public void To_latents_shifts_then_scales_the_mean_or_a_sample()
    {
        using var scope = NewDisposeScope();
        var config = TinyVaes.TinyConfig with { ScalingFactor = 2.0, ShiftFactor = 0.5 };
        using var vae = new AutoencoderKL(config);
        using var d = new DiagonalGaussian(tensor(new[] { 1f, -2f, 0f, 0f }).reshape(1, 2, 1, 2));

        Assert.Equal(new[] { 1f, -5f }, vae.ToLatents(d, null).data<float>().ToArray());   // (1 - 0.5) * 2, (-2 - 0.5) * 2
        var sampled = vae.ToLatents(d, new Generator(5));
        Close.Same(sampled, (d.Sample(new Generator(5)) - 0.5) * 2, "sampled latents");
    }

    [Theory]
    [InlineData(TinyVaes.Sd15, null)]
    [InlineData(TinyVaes.Sdxl, null)]
    [InlineData(TinyVaes.Sd15, 0.25)]
    public void Decode_scaled_inverts_the_denoiser_scaling(string pipeline, double? shift)
    {
        var config = VaeConfigReader.ReadFile(TinyVaes.ConfigPath(pipeline)) with { ShiftFactor = shift };
        using var vae = new AutoencoderKL(config);
        WeightLoader.Load(vae, TinyVaes.WeightsPath(pipeline), strict: true);
        var io = TinyVaes.Io(pipeline);
        using var _ = no_grad();
        using var scope = NewDisposeScope();

        var denoiserLatents = (io["vae.latents"] - (shift ?? 0.0)) * config.ScalingFactor;
        Close.Assert(vae.DecodeScaled(denoiserLatents), io["vae.decoded"], $"{pipeline} decode_scaled");
    }

    [Fact]
    public void Pixel_ranges_map_and_clamp()
    {
        using var scope = NewDisposeScope();
        var unit = AutoencoderKL.ToUnitRange(tensor(new[] { -1.5f, -1f, 0f, 0.5f, 1f, 2f }));
        Assert.Equal(new[] { 0f, 0f, 0.5f, 0.75f, 1f, 1f }, unit.data<float>().ToArray());
        var signed = AutoencoderKL.FromUnitRange(tensor(new[] { 0f, 0.25f, 1f }));
        Assert.Equal(new[] { -1f, -0.5f, 1f }, signed.data<float>().ToArray());
    }
}
