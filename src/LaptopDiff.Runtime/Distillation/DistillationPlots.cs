using LaptopDiff.Runtime.Plots;
using System.Globalization;
using LaptopDiff.Runtime.Weights;
using ScottPlot;

namespace LaptopDiff.Runtime.Distillation;

/// <summary>
/// The paper's Figures 2 and 3 from distillation logs (log.jsonl rows): <c>feature-losses.png</c>, the
/// un-normalized per-stage feature loss (per-element MSE, <c>feat_mse/STAGE</c>) over steps, log scale, one
/// colour per stage and one line style per run (e.g. normalized vs vanilla); <c>teacher-feature-norms.png</c>,
/// the teacher's stage feature norm (||F_T|| per sample, mean over the log) per stage.
/// </summary>
public static class DistillationPlots
{
    public const string FeatureLossesFile = "feature-losses.png";
    public const string TeacherNormsFile = "teacher-feature-norms.png";

    public static void Write(string dir, IReadOnlyList<(string Run, IReadOnlyList<IReadOnlyDictionary<string, double>> Rows)> runs, IReadOnlyList<string> stages)
    {
        var losses = PlotImages.Png(withText => FeatureLosses(runs, stages, withText));
        AtomicFile.Write(Path.Combine(dir, FeatureLossesFile), s => s.Write(losses));
        var norms = PlotImages.Png(withText => TeacherNorms(runs[0].Rows, stages, withText));
        AtomicFile.Write(Path.Combine(dir, TeacherNormsFile), s => s.Write(norms));
    }

    /// <summary>The feature stages a log covers, in order (from its <c>teacher_norm/STAGE</c> keys).</summary>
    public static IReadOnlyList<string> Stages(IReadOnlyList<IReadOnlyDictionary<string, double>> rows) =>
        rows.Count == 0 ? [] : rows[0].Keys.Where(k => k.StartsWith("teacher_norm/", StringComparison.Ordinal)).Select(k => k["teacher_norm/".Length..]).ToList();

    /// <summary>A term averaged over the last tenth of a run's steps (at least one), smoothing the per-batch noise.</summary>
    public static double Final(IReadOnlyList<IReadOnlyDictionary<string, double>> rows, string key)
    {
        var tail = rows.Skip(rows.Count - Math.Max(1, rows.Count / 10)).Select(r => r.GetValueOrDefault(key, double.NaN)).ToList();
        return tail.Count == 0 ? double.NaN : tail.Average();
    }

    /// <summary>
    /// The stage imbalance at the end of a run: largest over smallest stage term (<see cref="Final"/>), by default of the
    /// un-normalized MSE (<c>feat_mse</c>); <c>feat_norm</c> gives it for the relative errors ||F_T - F_S||^2 / ||F_T||^2.
    /// </summary>
    public static double Imbalance(IReadOnlyList<IReadOnlyDictionary<string, double>> rows, IReadOnlyList<string> stages, string term = "feat_mse")
    {
        var values = stages.Select(s => Final(rows, $"{term}/{s}")).Where(v => v > 0).ToList();
        return values.Count == 0 ? double.NaN : values.Max() / values.Min();
    }

    private static Plot FeatureLosses(IReadOnlyList<(string Run, IReadOnlyList<IReadOnlyDictionary<string, double>> Rows)> runs, IReadOnlyList<string> stages, bool withText)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var patterns = new[] { LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed };
        for (int r = 0; r < runs.Count; r++)
            for (int k = 0; k < stages.Count; k++)
            {
                var points = runs[r].Rows.Where(row => row.TryGetValue($"feat_mse/{stages[k]}", out var v) && v > 0).ToList();
                if (points.Count == 0) continue;
                var line = plot.Add.ScatterLine(points.Select(p => p["step"]).ToArray(), points.Select(p => Math.Log10(p[$"feat_mse/{stages[k]}"])).ToArray(), palette.GetColor(k));
                line.LinePattern = patterns[r % patterns.Length];
                if (withText) line.LegendText = $"{runs[r].Run}: {stages[k]}";
            }
        if (withText)
        {
            plot.Title("Un-normalized stage feature loss (per-element MSE) during distillation");
            plot.XLabel("step");
            plot.YLabel("log10 ||F_T - F_S||^2 / numel");
            plot.ShowLegend(Alignment.UpperRight);
        }
        return plot;
    }

    private static Plot TeacherNorms(IReadOnlyList<IReadOnlyDictionary<string, double>> rows, IReadOnlyList<string> stages, bool withText)
    {
        var plot = new Plot();
        var means = stages.Select(s => rows.Select(r => r.GetValueOrDefault($"teacher_norm/{s}", double.NaN)).Where(double.IsFinite).DefaultIfEmpty(0).Average()).ToArray();
        var bars = plot.Add.Bars(means);
        if (withText)
        {
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, stages.Count).Select(i => (double)i).ToArray(), stages.ToArray());
            plot.Title("Teacher stage feature norms ||F_T|| per sample");
            plot.YLabel("L2 norm");
            foreach (var (bar, v) in bars.Bars.Zip(means)) bar.Label = v.ToString("G3", CultureInfo.InvariantCulture);
        }
        return plot;
    }
}
