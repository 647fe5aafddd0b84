namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>Pearson and Spearman correlation of paired samples (double precision, NaN when undefined).</summary>
public static class Correlation
{
    /// <summary>Pearson's r; NaN for fewer than two pairs or a constant series (no linear relation is defined).</summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckPairs(x, y);
        int n = x.Count;
        if (n < 2) return double.NaN;
        double meanX = x.Average(), meanY = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - meanX, dy = y[i] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) return double.NaN;
        return Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1.0, 1.0);
    }

    /// <summary>Spearman's rho: Pearson's r of the ranks, ties sharing their average rank.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckPairs(x, y);
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>1-based ranks; equal values get the mean of the ranks they span (1, 2.5, 2.5, 4).</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        if (values.Any(double.IsNaN)) throw new ArgumentException("cannot rank NaN values", nameof(values));
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;                 // mean of 1-based ranks start+1 .. end+1
            for (int k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    private static void CheckPairs(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"correlation needs paired samples, got {x.Count} and {y.Count}");
    }
}
