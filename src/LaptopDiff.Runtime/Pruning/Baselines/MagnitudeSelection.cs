using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning.Baselines;

/// <summary>
/// The magnitude baseline: the exact knapsack (the same solver as LAPTOP's) over the weight-magnitude criterion
/// (<see cref="MagnitudeCriterion"/>: each unit's share of the summed |w|), so only the criterion differs.
/// </summary>
public static class MagnitudeSelection
{
    public const string CriterionName = "weight_magnitude";

    public static PrunedSelection Select(UNet2DCondition teacher, double ratio)
    {
        var layout = teacher.Layout;
        RandomSelection.Required(layout, ratio);   // the ratio's diagnostics name the ratio, not a criterion file
        var criterion = Criterion(layout, MagnitudeCriterion.Compute(teacher));
        var solution = KnapsackSolver.Solve(layout, criterion, ratio);
        return PrunedSelection.FromUnits(BaselineMethods.Magnitude, layout, solution.Removed, solution.PredictedLoss);
    }

    /// <summary>Per-unit scores as a criterion file of <paramref name="layout"/> (in memory; named <see cref="CriterionName"/>).</summary>
    public static CriterionFile Criterion(UNetLayout layout, IReadOnlyDictionary<string, double> scores) => new()
    {
        Path = "(weight magnitude)",
        Criterion = CriterionName,
        Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = SpecHash.Compute(layout.Spec) },
        Units = layout.PrunableUnits.Select(u => new CriterionUnit { Id = u.Id, Params = u.ParamCount, Loss = scores[u.Id] }).ToEquatableArray(),
    };
}
