using LaptopDiff.Runtime.Pruning.Additivity;

namespace LaptopDiff.Runtime.Tests.Pruning.Additivity;

public class CorrelationTests
{
    // x = 1..5, y = 2,4,5,4,5: dx = -2..2, dy = -2,0,1,0,1 -> sxy = 6, sxx = 10, syy = 6, r = 6 / sqrt(60)
    private static readonly double[] X = { 1, 2, 3, 4, 5 };
    private static readonly double[] Y = { 2, 4, 5, 4, 5 };

    [Fact]
    public void PearsonMatchesHandComputedValue() =>
        Assert.Equal(6 / Math.Sqrt(60), Correlation.Pearson(X, Y), 12);

    [Fact]
    public void SpearmanUsesAverageRanksForTies()
    {
        // ranks of y: 1, 2.5, 4.5, 2.5, 4.5 -> dy = -2,-0.5,1.5,-0.5,1.5, sxy = 7, syy = 9, rho = 7 / sqrt(90)
        Assert.Equal(new[] { 1, 2.5, 4.5, 2.5, 4.5 }, Correlation.Ranks(Y));
        Assert.Equal(7 / Math.Sqrt(90), Correlation.Spearman(X, Y), 12);
    }

    [Fact]
    public void SpearmanIsOneForAMonotonicNonlinearRelation()
    {
        double[] x = { 1, 2, 3, 4 }, y = { 1, 8, 27, 64 };
        Assert.Equal(1.0, Correlation.Spearman(x, y), 12);
        Assert.True(Correlation.Pearson(x, y) < 1.0);
        Assert.Equal(-1.0, Correlation.Spearman(x, y.Select(v => -v).ToArray()), 12);
    }

    [Fact]
    public void UndefinedCorrelationsAreNaN()
    {
        Assert.True(double.IsNaN(Correlation.Pearson(new double[] { 1, 1, 1 }, new double[] { 1, 2, 3 })));
        Assert.True(double.IsNaN(Correlation.Spearman(new double[] { 5 }, new double[] { 2 })));
        Assert.Throws<ArgumentException>(() => Correlation.Pearson(new double[] { 1, 2 }, new double[] { 1 }));
    }
}
