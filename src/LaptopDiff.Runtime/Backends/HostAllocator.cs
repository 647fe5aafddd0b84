using System.Runtime.InteropServices;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// glibc malloc settings for libtorch's CPU tensors. By default glibc serves each block over 128 KiB with its own
/// <c>mmap</c> and unmaps it on free; it raises that threshold as mapped blocks are freed, but in this .NET host the
/// blocks of a training step kept coming fresh from the kernel, so every step paid the page faults (and the kernel's
/// zeroing) of its activations and gradients again. Keeping blocks up to 32 MiB (glibc's largest threshold on 64-bit)
/// on the heap, and not trimming it, removes that: a tiny-sd15 ResNet block's forward+backward at batch 8 went from
/// 4.2-5.9 ms to 1.7 ms on the 2-core development machine (PyTorch 2.6 with diffusers: 1.8-1.9 ms), see
/// build/bench/README.md. The cost is memory the process keeps after a step instead of returning it.
/// </summary>
public static class HostAllocator
{
    private const int TrimThreshold = -1;     // glibc's M_TRIM_THRESHOLD
    private const int MmapThreshold = -3;     // M_MMAP_THRESHOLD
    /// <summary>Blocks up to this size come from the heap and are reused (glibc caps the threshold at 32 MiB on 64-bit).</summary>
    public const int MmapThresholdBytes = 32 << 20;

    /// <summary>Applies the settings to this process (glibc on Linux); false where there is no glibc <c>mallopt</c> or it refused them.</summary>
    public static bool Configure()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return Mallopt(MmapThreshold, MmapThresholdBytes) == 1 && Mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
