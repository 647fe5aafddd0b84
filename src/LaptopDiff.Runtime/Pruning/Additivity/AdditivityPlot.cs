using System.Globalization;
using LaptopDiff.Runtime.Plots;
using ScottPlot;

namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>
/// The paper's Figure 5 as a PNG: x = predicted sum_i r_i s_i, y = real output loss L(r), one series per
/// criterion, and the y = x line. The output loss recomputed on these inputs is plotted as it is (on y = x
/// exactly when additive); every other criterion may be in other units (magnitude, feature loss, or a file
/// whose s_i is a per-element MSE), so each is scaled by its least-squares factor through the origin
/// (c = sum p y / sum p^2, stated in the legend): scaling changes neither correlation.
/// </summary>
public static class AdditivityPlot
{
    public const int WidthPx = 900;
    public const int HeightPx = 700;

    public static byte[] RenderPng(AdditivityReport report) => PlotImages.Png(withText => Build(report, withText), WidthPx, HeightPx);

    private static Plot Build(AdditivityReport report, bool withText)
    {
        var inv = CultureInfo.InvariantCulture;
        var plot = new Plot();
        var real = report.Subsets.Select(s => s.RealLoss).ToArray();
        double max = real.DefaultIfEmpty(0).Max();
        var palette = new ScottPlot.Palettes.Category10();
        int k = 0;
        foreach (var c in report.Correlations)
        {
            var predicted = report.Subsets.Select(s => s.Predictions[c.Criterion]).ToArray();
            double scale = c.Criterion == AdditivityCriteria.OutputLossHere ? 1.0 : LeastSquaresScale(predicted, real);
            var xs = predicted.Select(p => p * scale).ToArray();
            max = Math.Max(max, xs.DefaultIfEmpty(0).Max());
            var points = plot.Add.ScatterPoints(xs, real, palette.GetColor(k++));
            points.MarkerSize = 7;
            if (withText)
                points.LegendText = $"{c.Criterion}{(scale == 1.0 ? "" : " x" + scale.ToString("G3", inv))}: " +
                                    $"Pearson {AdditivityMarkdown.Format(c.Pearson)}, Spearman {AdditivityMarkdown.Format(c.Spearman)}";
        }
        var line = plot.Add.Line(0, 0, max > 0 ? max : 1, max > 0 ? max : 1);
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Gray;
        if (withText)
        {
            line.LegendText = "y = x (exact additivity of output loss)";
            plot.Title($"Additivity: {report.SpecName}, {report.Subsets.Count} subsets, {report.Samples} samples");
            plot.XLabel("predicted sum of single-unit scores");
            plot.YLabel("real output loss L(r)");
            plot.ShowLegend(Alignment.UpperLeft);
        }
        return plot;
    }

    /// <summary>c minimising sum (c p - y)^2; 1 when the predictions are all zero.</summary>
    private static double LeastSquaresScale(double[] p, double[] y)
    {
        double py = 0, pp = 0;
        for (int i = 0; i < p.Length; i++) { py += p[i] * y[i]; pp += p[i] * p[i]; }
        return pp > 0 && py > 0 ? py / pp : 1.0;
    }
}
