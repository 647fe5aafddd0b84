namespace LaptopDiff.Kernels.CudaCheck;

/// <summary>What <see cref="DeviceCheck"/> runs; see kernels/run-cuda-check.sh.</summary>
public sealed record DeviceCheckOptions
{
    /// <summary>Run on ILGPU's CPU emulator at small sizes instead of CUDA: checks the check itself.</summary>
    public bool UseCpuEmulator { get; init; }

    /// <summary>Also check the TorchSharp-facing path (CPU tensors staged to the device, autograd).
    /// Needs libtorch; skipped with a note when it cannot be loaded.</summary>
    public bool IncludeTensorChecks { get; init; } = true;

    /// <summary>Also run <see cref="KernelBenchmark"/> with the simd and ilgpu-cuda paths (needs libtorch).</summary>
    public bool IncludeBenchmark { get; init; } = true;

    public KernelTuning Tuning { get; init; } = KernelTuning.Default;

    /// <summary>Timed launches per on-device timing; the median is reported.</summary>
    public int Iterations { get; init; } = 20;

    public int Seed { get; init; } = Environment.TickCount;

    public Action<string>? Log { get; init; }
}
