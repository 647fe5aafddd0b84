using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>How the ablations of a batch are computed.</summary>
public enum SweepStrategy
{
    /// <summary>One teacher forward per batch capturing the state before every unit; each ablation resumes from it (prefix caching).</summary>
    PrefixCached,
    /// <summary>The reference: one full forward per unit with that unit masked (m + 1 forwards per batch).</summary>
    Naive,
}

/// <summary>Settings of a sweep. Only <see cref="Noising"/> and <see cref="Shard"/> change its numbers (they are in its identity).</summary>
public sealed record SweepOptions
{
    /// <summary>Calibration samples per forward.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// Ablations of consecutive units evaluated in one suffix forward of batch A x B (prefix-cached strategy):
    /// each is advanced from its own cached state past the group's last unit, then the A states are
    /// concatenated along the batch and run to the output together. Same FLOPs as A separate resumes, fewer,
    /// larger operations; memory grows with A.
    /// </summary>
    public int AblationsPerForward { get; init; } = 1;

    public SweepStrategy Strategy { get; init; } = SweepStrategy.PrefixCached;

    public SweepShard Shard { get; init; } = SweepShard.All;

    public NoisingSettings Noising { get; init; } = new();

    public SweepOptions Validate()
    {
        if (BatchSize < 1) throw new SettingException(nameof(BatchSize), BatchSize, "must be at least 1");
        if (AblationsPerForward < 1) throw new SettingException(nameof(AblationsPerForward), AblationsPerForward, "must be at least 1");
        Noising.Schedule.Validate();
        return this;
    }
}

/// <summary>Where a sweep is: a line of progress after each group of ablations.</summary>
/// <param name="Batch">1-based calibration batch being swept.</param>
/// <param name="Batches">Calibration batches in all.</param>
/// <param name="Unit">The last unit measured.</param>
/// <param name="Done">(unit, batch) evaluations done by this run.</param>
/// <param name="Total">(unit, batch) evaluations this run has to do.</param>
/// <param name="UnitsComplete">Units of the shard with every sample measured.</param>
/// <param name="Units">Units of the shard.</param>
public sealed record SweepProgress(int Batch, int Batches, string Unit, int Done, int Total, int UnitsComplete, int Units, TimeSpan Elapsed)
{
    /// <summary>Remaining time at this run's pace; null before the first evaluation.</summary>
    public TimeSpan? Eta => Done == 0 ? null : TimeSpan.FromSeconds(Elapsed.TotalSeconds / Done * (Total - Done));
}
