using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// Every tuning knob of the kernels, in one place. The defaults were measured on the development
/// machine (2-core AMD EPYC, AVX2) and are sane starting points for a CUDA GPU; see kernels/README.md.
/// </summary>
public sealed record KernelTuning
{
    public static KernelTuning Default { get; } = new();

    /// <summary>The defaults with <see cref="CpuThreads"/> = libtorch's intra-op threads (<c>torch.set_num_threads</c>),
    /// so one thread setting governs libtorch and the kernels.</summary>
    public static KernelTuning MatchingTorch() => Default with { CpuThreads = torch.get_num_threads() };

    /// <summary>ILGPU: threads per group. Clamped to the accelerator's maximum and rounded down to
    /// a multiple of its warp size (the ILGPU CPU accelerator allows 16).</summary>
    public int GroupSize { get; init; } = 256;

    /// <summary>ILGPU: elements each thread handles per chunk; a group reduces one chunk of
    /// GroupSize * ElementsPerThread elements, so this sets how many partial sums there are.</summary>
    public int ElementsPerThread { get; init; } = 16;

    /// <summary>ILGPU: upper bound on groups per launch; kernels grid-stride over the remaining chunks.</summary>
    public int MaxGroups { get; init; } = 65_535;

    /// <summary>SIMD path: worker threads (default: every core the process may use).</summary>
    public int CpuThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>SIMD path: elements per work item. 16K floats = 64 KiB per operand, which keeps an
    /// ablation's teacher chunk in L2 while the A ablated chunks stream past it.</summary>
    public int CpuChunkElements { get; init; } = 16_384;

    /// <summary>SIMD path: below this many elements in one call (all operands), run on the calling
    /// thread only. One thread already streams at ~12 GB/s here, so a second one pays off only on
    /// large calls; right after libtorch ops its OpenMP threads still spin and would compete.</summary>
    public long CpuParallelThresholdElements { get; init; } = 1 << 20;

    /// <summary>SIMD path: gradients of at least this many elements are written with non-temporal
    /// stores (AVX), which skip reading the destination into cache first. Smaller ones stay cached
    /// for the backward pass that reads them next.</summary>
    public long CpuStreamingStoreElements { get; init; } = 1 << 20;

    internal void Validate()
    {
        if (GroupSize < 1 || ElementsPerThread < 1 || MaxGroups < 1 || CpuThreads < 1 || CpuChunkElements < 64
            || CpuParallelThresholdElements < 0 || CpuStreamingStoreElements < 0)
            throw new ArgumentException($"invalid kernel tuning {this}: sizes must be positive, CpuChunkElements >= 64");
    }
}
