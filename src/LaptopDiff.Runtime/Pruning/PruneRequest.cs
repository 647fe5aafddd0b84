namespace LaptopDiff.Runtime.Pruning;

/// <summary>How a prune chooses the units to remove.</summary>
public abstract record PruneMethod
{
    private PruneMethod() { }

    /// <summary>The exact knapsack over a criterion file: one pruned spec per ratio (the frontier).</summary>
    public sealed record Knapsack(string CriterionPath, IReadOnlyList<double> Ratios) : PruneMethod;

    /// <summary>A handcrafted baseline (<see cref="LaptopDiff.Spec.PruningPresets"/>).</summary>
    public sealed record Preset(string Name) : PruneMethod;

    /// <summary>The random baseline: prunable units in an order seeded by <paramref name="Seed"/> until <paramref name="Ratio"/> is met.</summary>
    public sealed record Random(long Seed, double Ratio) : PruneMethod;
}

/// <summary>What <c>laptop-diff prune</c> runs: a full model's spec, a method, and where the pruned spec (and student weights) go.</summary>
public sealed record PruneRequest
{
    /// <summary>The full (unpruned) model's *.unet.yaml spec.</summary>
    public required string SpecPath { get; init; }
    public required PruneMethod Method { get; init; }

    /// <summary>
    /// The pruned spec to write (*.unet.yaml); <see cref="PruneRunner.RatioPlaceholder"/> becomes the percent. An existing
    /// folder (or a path ending in a separator) gets the default name. Null: the default name beside the spec (presets
    /// and the random baseline only; the knapsack needs it).
    /// </summary>
    public string? Output { get; init; }

    /// <summary>The teacher's weights; with <see cref="StudentWeights"/>, the student's initial weights are written too.</summary>
    public string? TeacherWeights { get; init; }

    /// <summary>Where the student's weights go: a file, a pattern with <see cref="PruneRunner.RatioPlaceholder"/>, or a folder.</summary>
    public string? StudentWeights { get; init; }

    /// <summary>The pruned class's name (may hold <see cref="PruneRunner.RatioPlaceholder"/>); null: the default.</summary>
    public string? Name { get; init; }

    /// <summary>The provenance date; today (UTC) when null.</summary>
    public string? Date { get; init; }
}
