using System.Runtime.InteropServices;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// glibc malloc settings for libtorch's CPU tensors. By default glibc serves each block over 128 KiB with its own
/// <c>mmap</c> and unmaps it on free; it raises that threshold as mapped blocks are freed, but in this .NET host the
/// blocks of a training step kept coming fresh from the kernel, so every step paid the page faults (and the kernel's
/// zeroing) of its activations and gradients again. Serving every block from the heap (no <c>mmap</c> at all: the
/// threshold alone stops at 32 MiB, below SD-1.5's attention and feed-forward activations) and not trimming it
/// removes that: a tiny-sd15 ResNet block's forward+backward at batch 8 went from 4.2-5.9 ms to 1.7 ms, and the
/// SD-1.5 U-Net's at 64x64 latents from 26.8 to 10.8 s, on the 2-core development machine (build/bench/README.md).
/// The cost is memory the process keeps after a step instead of returning it (SD-1.5's peak resident grew 3%). It holds
/// for the main thread, where the CLI computes: glibc gives other threads arenas of at most 64 MiB, and maps larger
/// blocks for them whatever the settings.
/// </summary>
public static class HostAllocator
{
    private const int TrimThreshold = -1;     // glibc's M_TRIM_THRESHOLD
    private const int MmapMax = -4;           // M_MMAP_MAX: how many blocks may be mapped at once

    /// <summary>Applies the settings to this process (glibc on Linux); false where there is no glibc <c>mallopt</c> or it refused them.</summary>
    public static bool Configure()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return Mallopt(MmapMax, 0) == 1 && Mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
