using LaptopDiff.Kernels;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>The sweep's loss reduction on the fused kernels: one <see cref="AblationLossAccumulator"/> pass per group.</summary>
public sealed class KernelLossReducer(ILossKernels kernels) : IAblationLossReducer
{
    public string Name => $"{kernels.Path.Name()} ({kernels.Device})";

    public void SquaredErrorSums(Tensor teacher, Tensor ablated, Span<double> sums)
    {
        // A fresh accumulator per group: the sweep keeps per-sample losses itself (they must survive a restart).
        var accumulator = new AblationLossAccumulator(kernels, (int)ablated.shape[0]);
        accumulator.Add(teacher, ablated);
        accumulator.LastBatch.CopyTo(sums);
    }
}
