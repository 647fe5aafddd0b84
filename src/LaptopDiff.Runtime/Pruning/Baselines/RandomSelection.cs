using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning.Baselines;

/// <summary>
/// The random baseline: prunable units in a seeded random order, taken until the removed parameters reach
/// the knapsack's requirement ceil(R x P) (<see cref="KnapsackSolver.RequiredParams"/>), so it meets the ratio
/// exactly or just above, like the knapsack, and the same seed gives the same set on every machine.
/// </summary>
public static class RandomSelection
{
    /// <summary>Stream purpose of the baseline's order (beside the calibration's, below 100, and the additivity subsets', 101).</summary>
    private const ulong RandomBaselinePurpose = 102;

    /// <exception cref="SpecException">The ratio is outside (0, 1) or above what removing every prunable unit reaches.</exception>
    public static PrunedSelection Select(UNetLayout layout, double ratio, long seed)
    {
        var units = layout.PrunableUnits.ToList();
        long required = Required(layout, ratio);
        var chosen = new List<string>();
        long removed = 0;
        foreach (int k in new SeededRandom(seed, RandomBaselinePurpose, 0).Permutation(units.Count))
        {
            if (removed >= required) break;
            chosen.Add(units[k].Id);
            removed += units[k].ParamCount;
        }
        return PrunedSelection.FromUnits(BaselineMethods.Random, layout, chosen, predictedLoss: null);
    }

    /// <summary>ceil(R x P), by the knapsack's own check (<see cref="KnapsackSolver.RequireRatio"/>); a baseline also needs R above 0.</summary>
    internal static long Required(UNetLayout layout, double ratio)
    {
        if (!(ratio > 0))
            throw new SpecException(new[] { new SpecDiagnostic(SpecDiagnosticIds.InfeasibleRatio,
                $"pruning ratio {ratio.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} must be between 0 and 1, exclusive", "ratio", default) });
        return KnapsackSolver.RequireRatio(layout, ratio, "ratio");
    }
}
