namespace LaptopDiff.Kernels;

/// <summary>Which implementation runs the reductions.</summary>
public enum KernelPath
{
    /// <summary>Fused, vectorised, multi-threaded CPU loops over the tensors' memory.</summary>
    Simd,
    /// <summary>ILGPU kernels on ILGPU's CPU accelerator: an emulator, for verification only.</summary>
    IlgpuCpu,
    /// <summary>ILGPU kernels on a CUDA GPU.</summary>
    IlgpuCuda,
}

/// <summary>What configuration asks for; <see cref="Auto"/> measures and picks.</summary>
public enum KernelPreference { Auto, Simd, Ilgpu }

public static class KernelPathNames
{
    /// <summary>Stable lower-case names used in logs and benchmark JSON.</summary>
    public static string Name(this KernelPath path) => path switch
    {
        KernelPath.Simd => "simd",
        KernelPath.IlgpuCpu => "ilgpu-cpu",
        KernelPath.IlgpuCuda => "ilgpu-cuda",
        _ => path.ToString(),
    };
}
