using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// Frees each activation as soon as the next one exists, so a chain of full-resolution layers holds two of
/// them at a time rather than every one until the dispose scope ends. Safe with autograd: the graph keeps its
/// own references to the tensors it saved.
/// </summary>
internal static class Temporaries
{
    /// <summary>Runs <paramref name="step"/> on a tensor the caller owns, then frees it (unless the step returned it).</summary>
    public static Tensor Consume(this Tensor owned, Func<Tensor, Tensor> step)
    {
        var result = step(owned);
        if (!ReferenceEquals(result, owned)) owned.Dispose();
        return result;
    }

    /// <summary>silu(norm(x)) with the SiLU in place when no gradient is recorded.</summary>
    public static Tensor NormSilu(GroupNorm norm, Tensor x) => norm.forward(x).Consume(Blocks.Ops.SiluOwned);
}
