using static TorchSharp.torch;

namespace LaptopDiff.Kernels.Tests;

[Collection(KernelCollection.Name)]
public sealed class AblationSquaredErrorsTests(KernelPaths paths)
{
    [Theory]
    [InlineData("simd"), InlineData("simd-default"), InlineData("ilgpu-cpu"), InlineData("ilgpu-cpu-staged")]
    public void Per_ablation_per_sample_sums_match_float64_reference(string path)
    {
        var data = new TestData();
        foreach (var (a, shape) in new (int, long[])[] { (3, [5, 7, 11]), (1, [1]), (2, [1, 4099]), (5, [3, 2, 3, 5]) })
        {
            var teacher = data.NonZero(shape);
            var ablated = stack(Enumerable.Range(0, a).Select(_ => data.Near(teacher, 0.3)).ToArray());
            var sums = new double[a * shape[0]];
            paths[path].AblationSquaredErrors(teacher, ablated, sums);
            for (int i = 0; i < a; i++)
                for (int b = 0; b < shape[0]; b++)
                {
                    double expected = Reference.SquaredError(teacher[b], ablated[i, b]);
                    Assert.True(expected > 0);
                    Assert.True(Reference.RelativeError(sums[i * shape[0] + b], expected) <= 1e-6,
                        $"A={a} shape [{string.Join(",", shape)}] ({i},{b}): {sums[i * shape[0] + b]} vs {expected} {data.Tag}");
                }
        }
    }

    [Theory]
    [InlineData("simd"), InlineData("ilgpu-cpu")]
    public void Huge_and_tiny_outputs_keep_full_precision(string path)
    {
        var data = new TestData();
        foreach (double scale in new[] { 1e30, 1e-30 })
        {
            var teacher = data.NonZero([2, 53], scale);
            var ablated = stack([data.Near(teacher, 0.5), data.Near(teacher, 0.01)]);
            var sums = new double[4];
            paths[path].AblationSquaredErrors(teacher, ablated, sums);
            for (int i = 0; i < 2; i++)
                for (int b = 0; b < 2; b++)
                    Assert.True(Reference.RelativeError(sums[i * 2 + b], Reference.SquaredError(teacher[b], ablated[i, b])) <= 1e-6,
                        $"scale {scale} ({i},{b}) {data.Tag}");
        }
    }

    [Theory]
    [InlineData("simd"), InlineData("ilgpu-cpu")]
    public void Rejects_shapes_that_are_not_a_stack_of_teacher_shaped_outputs(string path)
    {
        var data = new TestData();
        var teacher = data.NonZero([4, 6]);
        var e = Assert.Throws<ArgumentException>(() => paths[path].AblationSquaredErrors(teacher, data.NonZero([2, 4, 7]), new double[8]));
        Assert.Contains("ablated outputs must be [A, 4, 6]", e.Message);
        e = Assert.Throws<ArgumentException>(() => paths[path].AblationSquaredErrors(teacher, data.NonZero([2, 4, 6]), new double[3]));
        Assert.Contains("A*B = 2*4 = 8", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            paths[path].AblationSquaredErrors(teacher, data.NonZero([4, 2, 6]).transpose(0, 1), new double[8]));
        Assert.Contains("ablated outputs is not contiguous", e.Message);
    }
}
