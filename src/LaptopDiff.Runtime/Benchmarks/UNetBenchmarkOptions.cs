namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>Which runtimes a U-Net benchmark times.</summary>
[Flags]
public enum UNetRuntimes
{
    /// <summary>TorchSharp: a forward (inference mode) and a forward+backward.</summary>
    Torch = 1,
    /// <summary>ONNX Runtime: a forward of the exported graph.</summary>
    Onnx = 2,
    /// <summary>Both forwards in one run at the same threads, their runs interleaved.</summary>
    Both = Torch | Onnx,
}

/// <summary>What <see cref="UNetBenchmark"/> measures: one spec at one batch size.</summary>
public sealed record UNetBenchmarkOptions
{
    public int Batch { get; init; } = 1;
    /// <summary>Intra-op threads of libtorch and of ONNX Runtime; null keeps each runtime's default.</summary>
    public int? Threads { get; init; }
    /// <summary>Text tokens of encoder_hidden_states (77 for CLIP).</summary>
    public int Tokens { get; init; } = 77;
    public int WarmupRuns { get; init; } = 2;
    public int MeasuredRuns { get; init; } = 7;
    /// <summary>Sample height and width; null uses the spec's sample_size.</summary>
    public int? SampleSize { get; init; }
    public long Seed { get; init; } = 0;
    /// <summary>Where the model and its inputs live; null: the CPU.</summary>
    public TorchSharp.torch.Device? Device { get; init; }
    public UNetRuntimes Runtimes { get; init; } = UNetRuntimes.Torch;
    /// <summary>
    /// The exported U-Net ONNX Runtime runs; null exports the benchmark's own seeded weights to a temporary file, so
    /// both runtimes compute the same function and the report gives their agreement.
    /// </summary>
    public string? OnnxModelPath { get; init; }
}
