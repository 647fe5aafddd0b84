namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>What <see cref="UNetBenchmark"/> measures: one spec at one batch size.</summary>
public sealed record UNetBenchmarkOptions
{
    public int Batch { get; init; } = 1;
    /// <summary>Intra-op threads; null keeps libtorch's default.</summary>
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
}
