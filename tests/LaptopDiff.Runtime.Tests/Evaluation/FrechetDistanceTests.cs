using LaptopDiff.Runtime.Evaluation;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Evaluation;

/// <summary>The Frechet distance against identities that hold exactly for sample moments, and the bootstrap.</summary>
public sealed class FrechetDistanceTests
{
    private static Tensor Features(long seed) => randn(400, 6, ScalarType.Float64, generator: new Generator((ulong)seed)).matmul(randn(6, 6, ScalarType.Float64, generator: new Generator((ulong)seed + 1))) + 0.5;

    [Fact]
    public void A_set_is_at_distance_zero_from_itself_and_a_shift_adds_its_squared_length()
    {
        using var a = Features(1);
        Assert.Equal(0, FrechetDistance.Compute(a, a), 6);
        using var shift = tensor(new double[] { 1, -2, 0, 0.5, 0, 3 });
        Assert.Equal(1 + 4 + 0.25 + 9, FrechetDistance.Compute(a, a + shift), 6);
    }

    [Fact]
    public void Doubling_a_set_adds_its_squared_mean_and_the_trace_of_its_covariance()
    {
        // mu_b = 2 mu_a, S_b = 4 S_a: |mu_a|^2 + tr S_a + 4 tr S_a - 2 tr (2 S_a) = |mu_a|^2 + tr S_a
        using var a = Features(2);
        double expected = a.mean([0]).square().sum().item<double>() + a.var(0).sum().item<double>();
        Assert.Equal(expected, FrechetDistance.Compute(a, 2 * a), 6);
        Assert.Equal(FrechetDistance.Compute(a, 2 * a), FrechetDistance.Compute(2 * a, a), 6);
        Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(a, zeros(5, 3, ScalarType.Float64)));
    }

    [Fact]
    public void Bootstrap_interval_brackets_the_statistic_and_narrows_with_more_data()
    {
        var values = Enumerable.Range(0, 400).Select(i => (double)(i % 7)).ToArray();
        var wide = Bootstrap.Interval(40, pick => pick.Average(i => values[i]), 300, seed: 1);
        var narrow = Bootstrap.Interval(400, pick => pick.Average(i => values[i]), 300, seed: 1);
        Assert.InRange(narrow.Value, narrow.Low, narrow.High);
        Assert.True(narrow.High - narrow.Low < wide.High - wide.Low);
        Assert.Equal(narrow, Bootstrap.Interval(400, pick => pick.Average(i => values[i]), 300, seed: 1));
    }

    [Fact]
    public void Bias_corrected_interval_brackets_a_statistic_that_resampling_moves()
    {
        // the share of distinct items is 1 for the data and about 0.632 for every resample
        static double distinctShare(long[] pick) => pick.Distinct().Count() / (double)pick.Length;
        var plain = Bootstrap.Interval(200, distinctShare, 300, seed: 1);
        var corrected = Bootstrap.Interval(200, distinctShare, 300, seed: 1, correctBias: true);
        Assert.Equal(1.0, plain.Value);
        Assert.True(plain.High < 0.7, $"plain percentiles [{plain.Low}, {plain.High}]");
        Assert.InRange(corrected.Value, corrected.Low, corrected.High);
        Assert.Equal(plain.High - plain.Low, corrected.High - corrected.Low, 9);
    }
}
