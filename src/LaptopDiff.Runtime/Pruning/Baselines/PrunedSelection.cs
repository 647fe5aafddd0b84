using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning.Baselines;

/// <summary>
/// What one pruning method removes from the teacher: units (execution order), an optional mid-block cut
/// (<see cref="MidReduction"/>, SSD-1B), the pruned layout, and the criterion's predicted loss where the
/// method has one.
/// </summary>
public sealed record PrunedSelection(string Method, IReadOnlyList<string> Removed, MidKind? MidReduction, UNetLayout Layout, long BaseParams, double? PredictedLoss)
{
    public long RemainingParams => Layout.TotalParamCount;
    public long RemovedParams => BaseParams - RemainingParams;
    public double AchievedRatio => BaseParams == 0 ? 0 : (double)RemovedParams / BaseParams;

    public static PrunedSelection FromPreset(PresetSelection preset) =>
        new(preset.Preset, preset.Removed.ToList(), preset.MidReduction, preset.Layout, preset.BaseParams, PredictedLoss: null);

    /// <summary>A set of units removed from <paramref name="baseLayout"/>, the mid block kept.</summary>
    public static PrunedSelection FromUnits(string method, UNetLayout baseLayout, IEnumerable<string> removed, double? predictedLoss)
    {
        var layout = baseLayout.WithRemoved(removed);
        return new PrunedSelection(method, layout.Removed.ToList(), null, layout, baseLayout.BaseParamCount, predictedLoss);
    }
}
