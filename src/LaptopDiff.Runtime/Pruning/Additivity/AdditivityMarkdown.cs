using System.Globalization;
using System.Text;

namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>additivity.md: what was checked, the correlation table, and the subsets by size.</summary>
public static class AdditivityMarkdown
{
    public static string Write(AdditivityReport r, string plotFileName)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine($"# Additivity check: {r.SpecName}").AppendLine();
        md.AppendLine($"Real output loss L(r) = mean over {r.Samples} samples of the per-sample MSE between eps_r and eps_T (the sweep's unit) for " +
                      $"{r.Subsets.Count} random unit subsets, against each criterion's additive prediction sum_i r_i s_i " +
                      "(DESIGN \"The method\" 3; the paper's Figure 5).").AppendLine();
        md.AppendLine($"- spec: `{r.SpecName}` ({r.SpecHash}), {r.TotalParams.ToString("N0", inv)} params");
        md.AppendLine($"- weights: `{r.WeightsPath}`; criterion: `{r.CriterionPath}`");
        md.AppendLine($"- inputs: {r.InputsSource}; subset seed {r.Seed}; {r.Elapsed.TotalSeconds.ToString("F1", inv)} s").AppendLine();
        md.AppendLine("| criterion | Pearson r | Spearman rho | s_i |");
        md.AppendLine("| --- | ---: | ---: | --- |");
        foreach (var c in r.Correlations)
            md.AppendLine($"| {c.Criterion} | {Format(c.Pearson)} | {Format(c.Spearman)} | {c.Description} |");
        md.AppendLine().AppendLine($"![additivity scatter]({plotFileName})").AppendLine();
        md.AppendLine("| target ratio | ratio | units | real loss | " + string.Join(" | ", r.Criteria.Select(c => $"pred. {c}")) + " |");
        md.AppendLine("| ---: | ---: | ---: | ---: | " + string.Join(" | ", r.Criteria.Select(_ => "---:")) + " |");
        foreach (var s in r.Subsets)
            md.AppendLine($"| {s.Subset.TargetRatio.ToString("P1", inv)} | {s.Subset.Ratio.ToString("P1", inv)} | {s.Subset.Units.Count} | " +
                          $"{s.RealLoss.ToString("G5", inv)} | " + string.Join(" | ", r.Criteria.Select(c => s.Predictions[c].ToString("G5", inv))) + " |");
        return md.ToString();
    }

    public static string Format(double v) => double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "n/a";
}
