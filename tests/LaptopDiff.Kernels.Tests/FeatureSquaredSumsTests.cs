using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Kernels.Tests;

[Collection(KernelCollection.Name)]
public sealed class FeatureSquaredSumsTests(KernelPaths paths)
{
    private const double LossTolerance = 1e-6;

    // odd and prime sizes, a single element, and one pair long enough for many chunks
    private static readonly long[][] Shapes = [[7, 13], [3, 5, 17], [1], [2, 3, 5, 7], [4099], [1, 1, 1, 1]];

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void Matches_float64_reference_over_pairs_of_different_shapes(string path)
    {
        var data = new TestData();
        var teacher = Shapes.Select(s => data.NonZero(s)).ToArray();
        var student = teacher.Select(t => data.Near(t)).ToArray();
        var (errors, norms) = Run(paths[path], teacher, student);
        for (int k = 0; k < Shapes.Length; k++)
        {
            double err = Reference.SquaredError(teacher[k], student[k]), norm = Reference.SquaredNorm(teacher[k]);
            Assert.True(err > 0 && norm > 0, data.Tag);
            Assert.True(Reference.RelativeError(errors[k], err) <= LossTolerance, $"pair {k}: {errors[k]} vs {err} {data.Tag}");
            Assert.True(Reference.RelativeError(norms[k], norm) <= LossTolerance, $"pair {k}: {norms[k]} vs {norm} {data.Tag}");
        }
    }

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void Huge_and_tiny_magnitudes_do_not_overflow_or_underflow(string path)
    {
        // squares of 1e30 overflow float32 and squares of 1e-30 underflow it: only double accumulation survives
        var data = new TestData();
        foreach (double scale in new[] { 1e30, 1e-30 })
        {
            var teacher = new[] { data.NonZero([37, 11], scale), data.NonZero([5], scale) };
            var student = teacher.Select(t => data.Near(t, 0.5)).ToArray();
            var (errors, norms) = Run(paths[path], teacher, student);
            for (int k = 0; k < teacher.Length; k++)
            {
                double err = Reference.SquaredError(teacher[k], student[k]);
                double norm = Reference.SquaredNorm(teacher[k]);
                Assert.True(double.IsFinite(errors[k]) && errors[k] > 0, $"scale {scale}: {errors[k]} {data.Tag}");
                Assert.True(Reference.RelativeError(errors[k], err) <= LossTolerance, $"scale {scale} pair {k}: {errors[k]} vs {err} {data.Tag}");
                Assert.True(Reference.RelativeError(norms[k], norm) <= LossTolerance, $"scale {scale} pair {k}: {norms[k]} vs {norm} {data.Tag}");
            }
        }
    }

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void All_zero_teacher_gives_zero_norm_and_exact_error(string path)
    {
        var data = new TestData();
        var teacher = new[] { zeros(3, 41), data.NonZero([9]) };
        var student = new[] { data.NonZero([3, 41]), data.Near(teacher[1]) };
        var (errors, norms) = Run(paths[path], teacher, student);
        Assert.Equal(0.0, norms[0]);
        Assert.True(Reference.RelativeError(errors[0], Reference.SquaredNorm(student[0])) <= LossTolerance, data.Tag);
        Assert.True(Reference.RelativeError(norms[1], Reference.SquaredNorm(teacher[1])) <= LossTolerance, data.Tag);
    }

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void Reads_a_contiguous_slice_at_its_storage_offset(string path)
    {
        var data = new TestData();
        using var big = data.NonZero([9, 13]);
        using var bigStudent = data.Near(big);
        var teacher = big.narrow(0, 3, 4);          // contiguous, storage offset 39
        var student = bigStudent.narrow(0, 5, 4);   // different offset in a different storage
        Assert.True(teacher.is_contiguous() && teacher.storage_offset() > 0);
        var (errors, norms) = Run(paths[path], [teacher], [student]);
        Assert.True(Reference.RelativeError(errors[0], Reference.SquaredError(teacher, student)) <= LossTolerance, data.Tag);
        Assert.True(Reference.RelativeError(norms[0], Reference.SquaredNorm(teacher)) <= LossTolerance, data.Tag);
    }

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void Rejects_non_contiguous_wrong_dtype_and_mismatched_shapes_with_clear_errors(string path)
    {
        var kernels = paths[path];
        var data = new TestData();
        var t = data.NonZero([6, 10]);
        var transposed = t.t();
        var e = Assert.Throws<ArgumentException>(() => Run(kernels, [transposed], [data.NonZero([10, 6])]));
        Assert.Contains("teacher feature 0 is not contiguous", e.Message);
        Assert.Contains(".contiguous()", e.Message);

        e = Assert.Throws<ArgumentException>(() => Run(kernels, [t], [t.to(float64)]));
        Assert.Contains("student feature 0 is Float64", e.Message);

        e = Assert.Throws<ArgumentException>(() => Run(kernels, [t, t], [t, data.NonZero([6, 11])]));
        Assert.Contains("feature pair 1: teacher is [6, 10], student is [6, 11]", e.Message);

        e = Assert.Throws<ArgumentException>(() => Run(kernels, [t], []));
        Assert.Contains("1 teacher features but 0 student features", e.Message);
    }

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void Scaled_differences_and_their_squared_error_match_reference_even_for_scales_beyond_float_range(string path)
    {
        var data = new TestData();
        var teacher = new[] { data.NonZero([5, 31], 1e-25), data.NonZero([1]), data.NonZero([3, 97]) };
        var student = teacher.Select(t => data.Near(t)).ToArray();
        double[] scales = [3e45, -0.75, 2.5];   // 3e45 > float.MaxValue, but scale * (s - t) ~ 1e20
        var gradients = student.Select(s => full_like(s, float.NaN)).ToArray();
        var errors = new double[3];
        paths[path].ScaledDifferences(teacher, student, scales, gradients, errors);
        for (int k = 0; k < teacher.Length; k++)
        {
            using var expected = (student[k].to(float64) - teacher[k].to(float64)) * scales[k];
            double error = Reference.RelativeError(gradients[k], expected);
            Assert.True(error <= 1e-6, $"pair {k}: relative error {error} {data.Tag}");
            double sse = Reference.SquaredError(teacher[k], student[k]);
            Assert.True(Reference.RelativeError(errors[k], sse) <= 1e-6, $"pair {k}: {errors[k]} vs {sse} {data.Tag}");
        }
    }

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void Squared_norms_match_reference_for_odd_sizes_and_extreme_magnitudes(string path)
    {
        var data = new TestData();
        var tensors = new[] { data.NonZero([7, 13]), data.NonZero([1], 1e30), data.NonZero([4099], 1e-30), zeros(3, 3) };
        var norms = new double[4];
        paths[path].SquaredNorms(tensors, norms);
        for (int k = 0; k < 3; k++)
            Assert.True(Reference.RelativeError(norms[k], Reference.SquaredNorm(tensors[k])) <= 1e-6, $"tensor {k} {data.Tag}");
        Assert.Equal(0.0, norms[3]);
        var e = Assert.Throws<ArgumentException>(() => paths[path].SquaredNorms([data.NonZero([4, 4]).t()], new double[1]));
        Assert.Contains("tensor 0 is not contiguous", e.Message);
    }

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void Training_forward_gives_norms_errors_and_gradients_in_both_modes(string path)
    {
        var data = new TestData();
        var teacher = new[] { data.NonZero([3, 7, 5]), zeros(2, 9), data.NonZero([1]), data.NonZero([4099], 1e-20) };
        var student = teacher.Select(t => data.Near(t)).ToArray();
        student[1] = data.NonZero([2, 9]);
        double[] weights = [1.0, 0.5, 2.0, 3.0];
        foreach (var options in new[] { new FeatureLossOptions(), new FeatureLossOptions(FeatureLossMode.Vanilla) })
        {
            var gradients = student.Select(s => full_like(s, float.NaN)).ToArray();
            var errors = new double[4];
            var norms = new double[4];
            paths[path].FeatureLossGradients(teacher, student, weights, options, gradients, errors, norms);
            for (int k = 0; k < teacher.Length; k++)
            {
                double norm = Reference.SquaredNorm(teacher[k]);
                double den = options.Mode == FeatureLossMode.Vanilla ? 1 : Math.Max(norm, options.MinTeacherSquaredNorm);
                Assert.True(Reference.RelativeError(norms[k], norm) <= 1e-6, $"{options.Mode} pair {k} {data.Tag}");
                Assert.True(Reference.RelativeError(errors[k], Reference.SquaredError(teacher[k], student[k])) <= 1e-6, $"{options.Mode} pair {k} {data.Tag}");
                using var expected = (student[k].to(float64) - teacher[k].to(float64)) * (2 * weights[k] / den);
                double error = Reference.RelativeError(gradients[k], expected);
                Assert.True(error <= 1e-5, $"{options.Mode} pair {k}: gradient relative error {error} {data.Tag}");
            }
        }
    }

    [Theory]
    [InlineData("simd"), InlineData("ilgpu-cpu")]
    public void Gradients_land_exactly_in_unaligned_slices_and_nowhere_else(string path)
    {
        // the SIMD path streams large gradients with aligned non-temporal stores after a scalar head
        var data = new TestData();
        var teacher = new[] { data.NonZero([1001]), data.NonZero([77]) };
        var student = teacher.Select(t => data.Near(t)).ToArray();
        using var storage = full(1001 + 77 + 3, 7.0f);
        var gradients = new[] { storage.narrow(0, 1, 1001), storage.narrow(0, 1003, 77) };   // 4- and 12-byte offsets
        var errors = new double[2];
        var norms = new double[2];
        paths[path].FeatureLossGradients(teacher, student, [1.0, 1.0], new FeatureLossOptions(), gradients, errors, norms);
        for (int k = 0; k < 2; k++)
        {
            using var expected = (student[k].to(float64) - teacher[k].to(float64)) * (2 / Reference.SquaredNorm(teacher[k]));
            Assert.True(Reference.RelativeError(gradients[k], expected) <= 1e-5, $"pair {k} {data.Tag}");
        }
        Assert.Equal(7.0f, storage[0].ToSingle());
        Assert.Equal(7.0f, storage[1002].ToSingle());
        Assert.Equal(7.0f, storage[1080].ToSingle());
    }

    internal static (double[] Errors, double[] Norms) Run(ILossKernels kernels, Tensor[] teacher, Tensor[] student)
    {
        var errors = new double[teacher.Length];
        var norms = new double[teacher.Length];
        kernels.FeatureSquaredSums(teacher, student, errors, norms);
        return (errors, norms);
    }
}
