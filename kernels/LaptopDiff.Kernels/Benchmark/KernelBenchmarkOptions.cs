namespace LaptopDiff.Kernels;

/// <summary>A named list of tensor shapes, e.g. the stage features of one model at one batch size.</summary>
public sealed record BenchmarkShapes(string Name, IReadOnlyList<long[]> Shapes)
{
    public override string ToString() =>
        $"{Name} {string.Join(" + ", Shapes.Select(s => string.Join("x", s)))}";
}

public sealed record KernelBenchmarkOptions
{
    /// <summary>Stage features of the small digits model (assumed: batch 64, 32x32 input, 3 stages).</summary>
    public static BenchmarkShapes DigitsStages { get; } = new("digits", [[64, 32, 32, 32], [64, 64, 16, 16], [64, 128, 8, 8]]);

    /// <summary>SD-1.5 stage features at batch 2, 64x64 latents.</summary>
    public static BenchmarkShapes Sd15Stages { get; } = new("sd15", [[2, 320, 64, 64], [2, 640, 32, 32], [2, 1280, 16, 16], [2, 1280, 8, 8]]);

    /// <summary>U-Net outputs, what the ablation sweep compares.</summary>
    public static BenchmarkShapes DigitsOutput { get; } = new("digits-output", [[64, 1, 32, 32]]);
    public static BenchmarkShapes Sd15Output { get; } = new("sd15-output", [[2, 4, 64, 64]]);
    /// <summary>A large per-ablation tensor, to show the ablation kernel's bandwidth.</summary>
    public static BenchmarkShapes Sd15LargestStage { get; } = new("sd15-stage0", [[2, 320, 64, 64]]);

    public IReadOnlyList<BenchmarkShapes> FeatureShapes { get; init; } = [DigitsStages, Sd15Stages];
    public IReadOnlyList<BenchmarkShapes> AblationShapes { get; init; } = [DigitsOutput, Sd15Output, Sd15LargestStage];

    /// <summary>Number of single-unit ablations stacked per ablation-loss call (A).</summary>
    public int Ablations { get; init; } = 8;

    /// <summary>Implementations to time; an unavailable one (no CUDA device) is skipped with a note.</summary>
    public IReadOnlyList<KernelPath> Paths { get; init; } = [KernelPath.Simd];

    public KernelTuning Tuning { get; init; } = KernelTuning.Default;

    public int WarmupIterations { get; init; } = 2;

    /// <summary>Timed calls per measurement, spread over 3 rounds; the median is reported.</summary>
    public int Iterations { get; init; } = 15;

    /// <summary>Bytes per buffer of the copy-bandwidth measurement (well beyond the caches).</summary>
    public long CopyBytes { get; init; } = 256L << 20;

    /// <summary>Progress lines (one per measurement), or null for silence.</summary>
    public Action<string>? Log { get; init; }
}
