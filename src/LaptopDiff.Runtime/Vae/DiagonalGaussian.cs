using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// diffusers' <c>DiagonalGaussianDistribution</c>: the encoder's moments split along channels into mean and
/// log-variance, the log-variance clamped to [-30, 20]. Owns its tensors.
/// </summary>
public sealed class DiagonalGaussian : IDisposable
{
    public const double MinLogVar = -30.0;
    public const double MaxLogVar = 20.0;

    /// <param name="moments">[B,2L,h,w]: mean channels first, then log-variance; taken over (disposed with this).</param>
    public DiagonalGaussian(Tensor moments)
    {
        using var scope = NewDisposeScope();
        var halves = moments.chunk(2, dim: 1);
        Mean = halves[0].MoveToOuterDisposeScope();                                          // [B,L,h,w]
        LogVar = halves[1].clamp(MinLogVar, MaxLogVar).MoveToOuterDisposeScope();            // [B,L,h,w]
        Std = LogVar.mul(0.5).exp().MoveToOuterDisposeScope();
        moments.Dispose();   // Mean is a view: the storage lives on through it
    }

    public Tensor Mean { get; }
    public Tensor LogVar { get; }
    public Tensor Std { get; }

    /// <summary>The mean (diffusers' <c>mode()</c>, <c>sample_mode="argmax"</c>): a new handle the caller owns.</summary>
    public Tensor Mode() => Mean.alias();

    /// <summary>mean + std * N(0, 1), the noise drawn from <paramref name="generator"/> (libtorch's global one when null).</summary>
    public Tensor Sample(Generator? generator)
    {
        using var scope = NewDisposeScope();
        var noise = randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);   // [B,L,h,w]
        return (Mean + Std * noise).MoveToOuterDisposeScope();
    }

    /// <summary>KL divergence to N(0, I) per sample, summed over [L,h,w]: [B].</summary>
    public Tensor Kl()
    {
        using var scope = NewDisposeScope();
        var kl = Mean.square() + LogVar.exp() - 1.0 - LogVar;
        return (kl.sum(new long[] { 1, 2, 3 }) * 0.5).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
    }
}
