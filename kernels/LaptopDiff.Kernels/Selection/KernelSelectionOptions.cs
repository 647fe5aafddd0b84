namespace LaptopDiff.Kernels;

public sealed record KernelSelectionOptions
{
    /// <summary>Auto measures; Simd or Ilgpu skip the measurement (the configuration override).</summary>
    public KernelPreference Preference { get; init; } = KernelPreference.Auto;

    public KernelTuning Tuning { get; init; } = KernelTuning.Default;

    /// <summary>Let Auto also time ILGPU's CPU emulator. Off by default: it is a verification tool,
    /// never faster than the SIMD path, and would only make calibration slow.</summary>
    public bool CalibrateCpuEmulator { get; init; }

    /// <summary>Elements of the largest calibration tensor (the problem is three feature pairs of
    /// N, N/2, N/4 elements and an ablation stack of 4 x 2 x N/8).</summary>
    public long CalibrationElements { get; init; } = 1 << 20;

    /// <summary>Timed repetitions per candidate; the median counts.</summary>
    public int CalibrationRepeats { get; init; } = 5;

    /// <summary>Parses a configuration value: "auto", "simd" or "ilgpu" (any case).</summary>
    public static KernelPreference ParsePreference(string value) =>
        Enum.TryParse<KernelPreference>(value?.Trim(), ignoreCase: true, out var p) && Enum.IsDefined(p)
            ? p
            : throw new ArgumentException($"unknown kernel preference '{value}'; expected auto, simd or ilgpu");
}

/// <summary>One candidate's calibration time (feature forward, training forward, ablation; median).</summary>
public sealed record CalibrationTiming(KernelPath Path, string Device, double Milliseconds);
