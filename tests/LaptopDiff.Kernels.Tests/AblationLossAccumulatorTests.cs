using static TorchSharp.torch;

namespace LaptopDiff.Kernels.Tests;

[Collection(KernelCollection.Name)]
public sealed class AblationLossAccumulatorTests(KernelPaths paths)
{
    [Theory]
    [InlineData("simd"), InlineData("ilgpu-cpu")]
    public void Running_totals_over_batches_equal_the_reference_over_all_samples(string path)
    {
        var data = new TestData();
        const int ablations = 3;
        var accumulator = new AblationLossAccumulator(paths[path], ablations);
        var perSample = Enumerable.Range(0, ablations).Select(_ => new List<double>()).ToArray();
        foreach (int batchSize in new[] { 4, 4, 3 })   // last batch smaller, as in a real sweep
        {
            var teacher = data.NonZero([batchSize, 2, 9, 7]);
            var ablated = stack(Enumerable.Range(0, ablations).Select(a => data.Near(teacher, 0.1 * (a + 1))).ToArray());
            accumulator.Add(teacher, ablated);
            for (int a = 0; a < ablations; a++)
                for (int b = 0; b < batchSize; b++)
                    perSample[a].Add(Reference.SquaredError(teacher[b], ablated[a, b]));
            Assert.Equal(ablations * batchSize, accumulator.LastBatch.Length);
        }
        for (int a = 0; a < ablations; a++)
        {
            var s = perSample[a];
            double mean = s.Average();
            double stderr = Math.Sqrt(s.Sum(v => (v - mean) * (v - mean)) / (s.Count - 1) / s.Count);
            Assert.Equal(11, accumulator.Count(a));
            Assert.True(Reference.RelativeError(accumulator.Mean(a), mean) <= 1e-6, $"ablation {a} {data.Tag}");
            Assert.True(Reference.RelativeError(accumulator.Total(a), s.Sum()) <= 1e-6, $"ablation {a} {data.Tag}");
            Assert.True(Reference.RelativeError(accumulator.StandardError(a), stderr) <= 1e-6, $"ablation {a} {data.Tag}");
        }
        // larger perturbations give larger losses: the order the knapsack will rely on
        var means = accumulator.Means();
        Assert.True(means[0] < means[1] && means[1] < means[2], data.Tag);
    }

    [Fact]
    public void Single_ablation_adds_update_only_their_row()
    {
        var data = new TestData();
        var accumulator = new AblationLossAccumulator(paths[KernelPaths.Simd], 2);
        var teacher = data.NonZero([3, 10]);
        var ablated = data.Near(teacher);
        accumulator.Add(teacher, ablated, ablation: 1);
        Assert.Equal(0, accumulator.Count(0));
        Assert.Equal(3, accumulator.Count(1));
        double expected = Enumerable.Range(0, 3).Sum(b => Reference.SquaredError(teacher[b], ablated[b])) / 3;
        Assert.True(Reference.RelativeError(accumulator.Mean(1), expected) <= 1e-6, data.Tag);
        Assert.Throws<InvalidOperationException>(() => accumulator.Mean(0));
    }

    [Fact]
    public void Non_finite_outputs_are_reported_and_leave_the_totals_untouched()
    {
        var data = new TestData();
        var accumulator = new AblationLossAccumulator(paths[KernelPaths.Simd], 2);
        var teacher = data.NonZero([2, 5]);
        accumulator.Add(teacher, stack([data.Near(teacher), data.Near(teacher)]));
        double before = accumulator.Total(0);
        var broken = stack([data.Near(teacher), data.Near(teacher)]);
        broken[1, 1, 2] = tensor(float.NaN);
        var e = Assert.Throws<ArithmeticException>(() => accumulator.Add(teacher, broken));
        Assert.Contains("ablation 1, sample 1", e.Message);
        Assert.Equal(before, accumulator.Total(0));
        Assert.Equal(2, accumulator.Count(0));
    }
}
