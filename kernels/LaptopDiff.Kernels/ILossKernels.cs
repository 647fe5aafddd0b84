using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// The two hot reductions of LAPTOP-Diff, implemented by <see cref="SimdLossKernels"/> and
/// <see cref="IlgpuLossKernels"/>. Inputs are contiguous float32 tensors, read in place; every sum is
/// accumulated in double. Teacher first, then student/ablated, everywhere. Instances are thread-safe
/// (calls are serialised) and own native resources: dispose them.
/// </summary>
public interface ILossKernels : IDisposable
{
    KernelPath Path { get; }

    /// <summary>Human-readable device, e.g. "CPU, 2 threads, Vector256" or "NVIDIA H100 (CUDA)".</summary>
    string Device { get; }

    /// <summary>
    /// Per-(ablation, sample) sums of squared error: for teacher T [B, ...] and ablated outputs
    /// S [A, B, ...], <c>sums[a * B + b] = sum_i (S[a, b, i] - T[b, i])^2</c>.
    /// </summary>
    void AblationSquaredErrors(torch.Tensor teacher, torch.Tensor ablated, Span<double> sums);

    /// <summary>
    /// One pass over each of K pairs (shapes may differ between pairs, not within one):
    /// <c>squaredErrors[k] = ||S_k - T_k||^2</c>, <c>teacherSquaredNorms[k] = ||T_k||^2</c> (plain sums).
    /// </summary>
    void FeatureSquaredSums(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        Span<double> squaredErrors, Span<double> teacherSquaredNorms);

    /// <summary><c>squaredNorms[k] = ||X_k||^2</c>: the teacher norms the normalized loss divides by.</summary>
    void SquaredNorms(IReadOnlyList<torch.Tensor> tensors, Span<double> squaredNorms);

    /// <summary>
    /// <c>gradients[k] = scales[k] * (S_k - T_k)</c> written into the given tensors (product in double,
    /// stored as float), and <c>squaredErrors[k] = ||S_k - T_k||^2</c> from the same pass. With
    /// <c>scales[k] = 2 w_k / den_k</c> this is the training forward of the feature loss: its value and
    /// its gradient in one read of each pair.
    /// </summary>
    void ScaledDifferences(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        ReadOnlySpan<double> scales, IReadOnlyList<torch.Tensor> gradients, Span<double> squaredErrors);

    /// <summary>
    /// The training forward of the feature loss, fused: <c>teacherSquaredNorms[k] = ||T_k||^2</c>, then
    /// <c>gradients[k] = 2 w_k / den_k * (S_k - T_k)</c> (den_k per <paramref name="options"/>) and
    /// <c>squaredErrors[k] = ||S_k - T_k||^2</c> in one pass over each pair. Implementations order the
    /// passes for their memory: the SIMD path does both per pair, so the teacher is re-read from cache.
    /// </summary>
    void FeatureLossGradients(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        ReadOnlySpan<double> weights, FeatureLossOptions options, IReadOnlyList<torch.Tensor> gradients,
        Span<double> squaredErrors, Span<double> teacherSquaredNorms);
}
