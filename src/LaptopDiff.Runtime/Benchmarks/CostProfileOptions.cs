namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>What <see cref="CostProfiler"/> measures: one spec at one batch and latent size, on this machine.</summary>
public sealed record CostProfileOptions
{
    public int Batch { get; init; } = 1;
    /// <summary>Latent height and width; null uses the spec's sample_size (what a build item's budget assumes by default).</summary>
    public int? Height { get; init; }
    public int? Width { get; init; }
    /// <summary>Text tokens of encoder_hidden_states (77 for CLIP).</summary>
    public int Tokens { get; init; } = 77;
    /// <summary>Intra-op threads; null keeps libtorch's default.</summary>
    public int? Threads { get; init; }
    /// <summary>Timed runs: each is one step timed unit by unit and one plain step, interleaved so that load drifts touch both.</summary>
    public int Runs { get; init; } = 5;
    public int WarmupRuns { get; init; } = 1;
    public long Seed { get; init; } = 0;
    /// <summary>Where the model and its inputs lie (the CPU by default); a CUDA step is synchronised before its clock stops.</summary>
    public TorchSharp.torch.Device Device { get; init; } = TorchSharp.torch.CPU;
}
