namespace LaptopDiff.Kernels;

/// <summary>The implementation the runtime uses, and why. Owns <see cref="Kernels"/>.</summary>
public sealed class KernelSelection(ILossKernels kernels, string reason, IReadOnlyList<CalibrationTiming> timings) : IDisposable
{
    public ILossKernels Kernels { get; } = kernels;

    /// <summary>Why this path: the configuration override, or the calibration times.</summary>
    public string Reason { get; } = reason;

    /// <summary>Every candidate measured (empty when the configuration chose).</summary>
    public IReadOnlyList<CalibrationTiming> Timings { get; } = timings;

    /// <summary>A log line, e.g. "kernels: simd (CPU, 2 thread(s), ...): auto: simd 3.1 ms, ...".</summary>
    public override string ToString() => $"kernels: {Kernels.Path.Name()} ({Kernels.Device}): {Reason}";

    public void Dispose() => Kernels.Dispose();
}
