using LaptopDiff.Runtime.Plots;
using ScottPlot;

namespace LaptopDiff.Runtime.Training;

/// <summary>A run's loss curve from its <c>log.jsonl</c>: each term per step (faint) and its moving average, log scale.</summary>
public static class LossCurvePlot
{
    public const string FileName = "loss.png";

    public static byte[] RenderPng(IReadOnlyList<IReadOnlyDictionary<string, double>> rows, IReadOnlyList<string> terms, int windowSteps = 50) =>
        PlotImages.Png(withText =>
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            for (int k = 0; k < terms.Count; k++)
            {
                var points = rows.Where(r => r.TryGetValue(terms[k], out var v) && v > 0).ToList();
                if (points.Count == 0) throw new ArgumentException($"the log has no positive values of '{terms[k]}'");
                double[] steps = points.Select(p => p["step"]).ToArray();
                double[] values = points.Select(p => Math.Log10(p[terms[k]])).ToArray();
                var raw = plot.Add.ScatterLine(steps, values, palette.GetColor(k).WithAlpha(0.25));
                var smooth = plot.Add.ScatterLine(steps, MovingAverage(values, windowSteps), palette.GetColor(k));
                smooth.LineWidth = 2;
                if (withText) smooth.LegendText = $"{terms[k]} ({windowSteps}-step mean)";
            }
            if (withText)
            {
                plot.Title("Training loss");
                plot.XLabel("step");
                plot.YLabel("log10 loss");
                plot.ShowLegend(Alignment.UpperRight);
            }
            return plot;
        });

    private static double[] MovingAverage(double[] values, int window)
    {
        var result = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
