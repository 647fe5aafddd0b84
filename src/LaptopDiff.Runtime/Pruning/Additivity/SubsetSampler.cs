using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>A set of removed units: the ratio aimed at, and what it removes exactly.</summary>
/// <param name="TargetRatio">Fraction of the U-Net's parameters the sampler aimed to remove.</param>
/// <param name="Units">Removed unit ids, in execution order.</param>
/// <param name="RemovedParams">Exact parameters of those units.</param>
/// <param name="Ratio">RemovedParams / the whole U-Net's parameters.</param>
public sealed record UnitSubset(double TargetRatio, IReadOnlyList<string> Units, long RemovedParams, double Ratio);

/// <summary>
/// Seeded random subsets of prunable units at target ratios spread evenly over [min, max]: for subset j,
/// units are drawn in a random order until the removed parameters reach the target, so each subset is
/// minimal in its drawing order (dropping its last unit falls below the target). A subset equal to an
/// earlier one is redrawn from the next stream; when the prunable units cannot reach a target, all are
/// removed once and that subset is not repeated.
/// </summary>
public static class SubsetSampler
{
    /// <summary>Stream purpose of subset draws (beside the calibration's purposes, which are below 100).</summary>
    private const ulong SubsetPurpose = 101;
    private const int RedrawsPerSubset = 64;

    public static IReadOnlyList<UnitSubset> Sample(UNetLayout layout, int count, double minRatio, double maxRatio, long seed)
    {
        if (count < 1) throw new SettingException(nameof(AdditivityOptions.Subsets), count, "must be at least 1");
        if (!(minRatio > 0 && minRatio < 1)) throw new SettingException(nameof(AdditivityOptions.MinRatio), minRatio, "must be in (0, 1)");
        if (!(maxRatio >= minRatio && maxRatio < 1))
            throw new SettingException(nameof(AdditivityOptions.MaxRatio), maxRatio, $"must be at least the smallest ratio ({minRatio.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}) and below 1");
        var units = layout.PrunableUnits.ToList();
        if (units.Count == 0) throw new ArgumentException($"{layout.Spec.Name} has no prunable units");
        long total = layout.TotalParamCount;
        var order = units.Select((u, i) => (u.Id, i)).ToDictionary(p => p.Id, p => p.i);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var subsets = new List<UnitSubset>();
        long stream = 0;
        for (int j = 0; j < count; j++)
        {
            double target = count == 1 ? minRatio : minRatio + (maxRatio - minRatio) * j / (count - 1);
            for (int attempt = 0; attempt < RedrawsPerSubset; attempt++)
            {
                var perm = new SeededRandom(seed, SubsetPurpose, stream++).Permutation(units.Count);
                var chosen = new List<LayoutComponent>();
                long removed = 0;
                foreach (int k in perm)
                {
                    if (removed >= target * total) break;
                    chosen.Add(units[k]);
                    removed += units[k].ParamCount;
                }
                var ids = chosen.Select(u => u.Id).OrderBy(id => order[id]).ToList();
                if (!seen.Add(string.Join("|", ids))) continue;             // duplicate: redraw
                subsets.Add(new UnitSubset(target, ids, removed, (double)removed / total));
                break;
            }
        }
        return subsets;
    }
}
