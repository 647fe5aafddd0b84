using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Kernels.Tests;

[Collection(KernelCollection.Name)]
public sealed class FeatureDistillationLossTests(KernelPaths paths)
{
    private static readonly long[][] Shapes = [[2, 3, 7, 5], [2, 5, 3, 3], [1], [2, 11, 2, 2]];
    private static readonly double[] Weights = [1.0, 0.5, 2.0, 0.25];

    [Theory, MemberData(nameof(KernelPaths.All), MemberType = typeof(KernelPaths))]
    public void Forward_value_terms_and_gradients_match_float64_autograd(string path)
    {
        foreach (var mode in new[] { FeatureLossMode.Normalized, FeatureLossMode.Vanilla })
        {
            var data = new TestData();
            var teacher = Shapes.Select(s => data.NonZero(s)).ToArray();
            var student = teacher.Select(t => data.Near(t, 0.2).requires_grad_()).ToArray();
            var loss = new FeatureDistillationLoss(paths[path], new FeatureLossOptions(mode));

            var value = loss.Apply(teacher, student, Weights, out var values);
            value.backward();

            var (expected, expectedGrads) = Float64Reference(teacher, student, mode);
            Assert.Equal(ScalarType.Float32, value.dtype);
            Assert.Equal(0, value.dim());
            Assert.True(Reference.RelativeError(values.Total, expected) <= 1e-6, $"{mode}: {values.Total} vs {expected} {data.Tag}");
            Assert.True(Reference.RelativeError(value.ToDouble(), expected) <= 1e-6, $"{mode} {data.Tag}");
            for (int k = 0; k < Shapes.Length; k++)
            {
                double raw = Reference.SquaredError(teacher[k], student[k]);
                double den = mode == FeatureLossMode.Vanilla ? 1 : Reference.SquaredNorm(teacher[k]);
                Assert.True(Reference.RelativeError(values.SquaredErrors[k], raw) <= 1e-6, data.Tag);
                Assert.True(Reference.RelativeError(values.Terms[k], Weights[k] * raw / den) <= 1e-6, data.Tag);
                double gradError = Reference.RelativeError(student[k].grad!, expectedGrads[k]);
                Assert.True(gradError <= 1e-5, $"{mode} pair {k}: gradient relative error {gradError} {data.Tag}");
            }
        }
    }

    [Theory]
    [InlineData("simd"), InlineData("ilgpu-cpu")]
    public void Gradients_agree_with_finite_differences_of_the_float64_loss(string path)
    {
        var data = new TestData();
        var teacher = Shapes.Select(s => data.NonZero(s)).ToArray();
        var student = teacher.Select(t => data.Near(t, 0.2).requires_grad_()).ToArray();
        new FeatureDistillationLoss(paths[path]).Apply(teacher, student, Weights).backward();

        // the loss is quadratic in F_S, so a central difference in float64 is exact up to rounding
        var rng = new Random(data.Seed);
        var teacher64 = teacher.Select(t => t.to(float64)).ToArray();
        for (int probe = 0; probe < 12; probe++)
        {
            int k = rng.Next(Shapes.Length);
            long i = rng.NextInt64(student[k].numel());
            var s64 = student.Select(s => s.detach().to(float64).clone()).ToArray();
            double h = 1e-3 * Math.Abs(s64[k].view(-1)[i].ToDouble());
            double x = s64[k].view(-1)[i].ToDouble();
            s64[k].view(-1)[i] = tensor(x + h, float64);
            double plus = NormalizedLoss(teacher64, s64);
            s64[k].view(-1)[i] = tensor(x - h, float64);
            double minus = NormalizedLoss(teacher64, s64);
            double numeric = (plus - minus) / (2 * h);
            double analytic = student[k].grad!.view(-1)[i].ToDouble();
            Assert.True(Reference.RelativeError(analytic, numeric) <= 1e-5, $"pair {k} element {i}: {analytic} vs {numeric} {data.Tag}");
        }
    }

    [Theory]
    [InlineData("simd"), InlineData("ilgpu-cpu")]
    public void All_zero_teacher_feature_gives_a_finite_defined_loss_and_gradient(string path)
    {
        var data = new TestData();
        var options = new FeatureLossOptions(FeatureLossMode.Normalized, MinTeacherSquaredNorm: 1e-3);
        var teacher = new[] { zeros(2, 3, 5), data.NonZero([7]) };
        var student = new[] { data.NonZero([2, 3, 5], 1e-2).requires_grad_(), data.Near(teacher[1]).requires_grad_() };
        var value = new FeatureDistillationLoss(paths[path], options).Apply(teacher, student, [1.0, 1.0], out var values);
        value.backward();

        double expected0 = Reference.SquaredNorm(student[0]) / 1e-3;   // documented: denominator max(||F_T||^2, eps)
        Assert.Equal(1e-3, values.Denominators[0]);
        Assert.True(Reference.RelativeError(values.Terms[0], expected0) <= 1e-6, data.Tag);
        Assert.True(double.IsFinite(value.ToDouble()));
        Assert.False(student[0].grad!.isnan().any().ToBoolean());
        using var expectedGrad = student[0].detach().to(float64) * (2 / 1e-3);
        Assert.True(Reference.RelativeError(student[0].grad!, expectedGrad) <= 1e-5, data.Tag);
    }

    [Fact]
    public void Composes_with_other_losses_and_accumulates_into_existing_gradients()
    {
        var data = new TestData();
        var teacher = Shapes.Select(s => data.NonZero(s)).ToArray();
        var student = teacher.Select(t => data.Near(t, 0.2).requires_grad_()).ToArray();
        var loss = new FeatureDistillationLoss(paths[KernelPaths.Simd]);
        // L = 0.5 * feature loss + sum(F_S^0): grad_0 = 0.5 * dFeat + 1
        var total = loss.Apply(teacher, student, Weights) * 0.5 + student[0].sum();
        total.backward();
        var (_, grads) = Float64Reference(teacher, student, FeatureLossMode.Normalized);
        using var expected = grads[0] * 0.5 + 1;
        Assert.True(Reference.RelativeError(student[0].grad!, expected) <= 1e-5, data.Tag);
        Assert.True(Reference.RelativeError(student[1].grad!, grads[1] * 0.5) <= 1e-5, data.Tag);
    }

    [Theory]
    [InlineData("simd"), InlineData("ilgpu-cpu")]
    public void A_retained_graph_gives_the_same_gradient_on_every_backward(string path)
    {
        // backward returns the gradient computed in forward; it must never be changed in place
        var data = new TestData();
        var teacher = Shapes.Select(s => data.NonZero(s)).ToArray();
        var student = teacher.Select(t => data.Near(t, 0.2).requires_grad_()).ToArray();
        var loss = new FeatureDistillationLoss(paths[path]);
        foreach (double g in new[] { 1.0, 0.25 })
        {
            foreach (var s in student) s.grad = null;
            var value = loss.Apply(teacher, student, Weights) * g;
            value.backward(retain_graph: true);
            value.backward();
            var (_, grads) = Float64Reference(teacher, student, FeatureLossMode.Normalized);
            for (int k = 0; k < Shapes.Length; k++)
            {
                using var expected = grads[k] * (2 * g);
                Assert.True(Reference.RelativeError(student[k].grad!, expected) <= 1e-5, $"g={g} pair {k} {data.Tag}");
            }
        }
    }

    [Fact]
    public void Training_and_validation_forwards_give_the_same_values()
    {
        var data = new TestData();
        var teacher = Shapes.Select(s => data.NonZero(s)).ToArray();
        var student = teacher.Select(t => data.Near(t, 0.2).requires_grad_()).ToArray();
        var loss = new FeatureDistillationLoss(paths[KernelPaths.Simd]);
        loss.Apply(teacher, student, Weights, out var training);
        var validation = loss.Evaluate(teacher, student, Weights);
        Assert.True(Reference.RelativeError(training.Total, validation.Total) <= 1e-6, data.Tag);
        for (int k = 0; k < Shapes.Length; k++)
        {
            Assert.True(Reference.RelativeError(training.SquaredErrors[k], validation.SquaredErrors[k]) <= 1e-6, data.Tag);
            Assert.True(Reference.RelativeError(training.TeacherSquaredNorms[k], validation.TeacherSquaredNorms[k]) <= 1e-12, data.Tag);
        }
    }

    [Fact]
    public void Vanilla_and_normalized_differ_by_the_teacher_norm()
    {
        var data = new TestData();
        var teacher = Shapes.Select(s => data.NonZero(s, 10)).ToArray();
        var student = teacher.Select(t => data.Near(t)).ToArray();
        var normalized = new FeatureDistillationLoss(paths[KernelPaths.Simd]).Evaluate(teacher, student, Weights);
        var vanilla = new FeatureDistillationLoss(paths[KernelPaths.Simd], new(FeatureLossMode.Vanilla)).Evaluate(teacher, student, Weights);
        for (int k = 0; k < Shapes.Length; k++)
            Assert.True(Reference.RelativeError(vanilla.Terms[k] / normalized.Terms[k], Reference.SquaredNorm(teacher[k])) <= 1e-6, data.Tag);
    }

    [Fact]
    public void Teacher_features_that_require_grad_are_rejected_before_the_graph_is_built()
    {
        var data = new TestData();
        var teacher = new[] { data.NonZero([4]).requires_grad_() };
        var student = new[] { data.NonZero([4]).requires_grad_() };
        var e = Assert.Throws<ArgumentException>(() => new FeatureDistillationLoss(paths[KernelPaths.Simd]).Apply(teacher, student, [1.0]));
        Assert.Contains("teacher feature 0 requires grad", e.Message);
        e = Assert.Throws<ArgumentException>(() => new FeatureDistillationLoss(paths[KernelPaths.Simd]).Apply([teacher[0].detach()], student, [1.0, 2.0]));
        Assert.Contains("1 feature pairs but 2 weights", e.Message);
    }

    [Fact]
    public void Works_without_grad_and_inside_a_dispose_scope()
    {
        var data = new TestData();
        var teacher = Shapes.Select(s => data.NonZero(s)).ToArray();
        var student = teacher.Select(t => data.Near(t, 0.2).requires_grad_()).ToArray();
        var loss = new FeatureDistillationLoss(paths[KernelPaths.Simd]);
        double expected = Float64Reference(teacher, student, FeatureLossMode.Normalized).Loss;
        using (no_grad())
        {
            var value = loss.Apply(teacher, student, Weights);
            Assert.False(value.requires_grad);
            Assert.True(Reference.RelativeError(value.ToDouble(), expected) <= 1e-6);
        }
        using (NewDisposeScope())
        {
            loss.Apply(teacher, student, Weights).backward();
        }
        var (_, grads) = Float64Reference(teacher, student, FeatureLossMode.Normalized);
        Assert.True(Reference.RelativeError(student[2].grad!, grads[2]) <= 1e-5, data.Tag);
    }

    private static (double Loss, Tensor[] Grads) Float64Reference(Tensor[] teacher, Tensor[] student, FeatureLossMode mode)
    {
        var s64 = student.Select(s => s.detach().to(float64).requires_grad_()).ToArray();
        var t64 = teacher.Select(t => t.to(float64)).ToArray();
        Tensor total = tensor(0.0, float64);
        for (int k = 0; k < teacher.Length; k++)
        {
            var term = (s64[k] - t64[k]).pow(2).sum() * Weights[k];
            total = total + (mode == FeatureLossMode.Vanilla ? term : term / t64[k].pow(2).sum());
        }
        total.backward();
        return (total.ToDouble(), s64.Select(s => s.grad!).ToArray());
    }

    private static double NormalizedLoss(Tensor[] teacher64, Tensor[] student64)
    {
        double total = 0;
        for (int k = 0; k < teacher64.Length; k++)
            total += Weights[k] * (student64[k] - teacher64[k]).pow(2).sum().ToDouble() / teacher64[k].pow(2).sum().ToDouble();
        return total;
    }
}
