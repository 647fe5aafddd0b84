using LaptopDiff.Runtime.Randomness;

namespace LaptopDiff.Runtime.Evaluation;

/// <summary>A value with its 95% confidence interval.</summary>
public sealed record Estimate(double Value, double Low, double High);

/// <summary>Seeded percentile bootstrap: resample the n items with replacement, recompute, take the 2.5/97.5 percentiles.</summary>
public static class Bootstrap
{
    private const ulong Purpose = 61;

    /// <param name="correctBias">
    /// Shift the percentiles by the bootstrap's bias estimate (mean of the resampled statistics minus the value).
    /// For statistics that resampling itself moves, as the Frechet distance: a resample repeats items, which
    /// shrinks the generated set's spread and raises the distance, so plain percentiles can miss the value.
    /// </param>
    public static Estimate Interval(int n, Func<long[], double> statistic, int resamples, long seed, bool correctBias = false)
    {
        if (n < 1 || resamples < 2) throw new ArgumentException("bootstrap needs at least one item and two resamples");
        var all = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        double value = statistic(all);
        var stats = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            var random = new SeededRandom(seed, Purpose, r);
            var pick = new long[n];
            for (int i = 0; i < n; i++) pick[i] = Math.Min(n - 1, (long)(random.Uniform(i) * n));
            stats[r] = statistic(pick);
        }
        double bias = correctBias ? stats.Average() - value : 0;
        Array.Sort(stats);
        return new Estimate(value, Percentile(stats, 0.025) - bias, Percentile(stats, 0.975) - bias);
    }

    private static double Percentile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
