namespace LaptopDiff.Kernels;

/// <summary>Creates an implementation by path; null when the machine does not have it.</summary>
public static class KernelFactory
{
    public static ILossKernels? TryCreate(KernelPath path, KernelTuning? tuning = null) => path switch
    {
        KernelPath.Simd => new SimdLossKernels(tuning),
        KernelPath.IlgpuCpu => IlgpuLossKernels.CreateCpuEmulator(tuning),
        KernelPath.IlgpuCuda => IlgpuLossKernels.TryCreateCuda(tuning),
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, null),
    };
}
