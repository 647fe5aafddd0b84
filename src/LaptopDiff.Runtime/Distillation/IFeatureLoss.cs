using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Distillation;

/// <summary>Which feature term the student is trained with (the paper's ablation).</summary>
public enum FeatureKd
{
    /// <summary>LAPTOP-Diff: sum_k ||F_T^k - F_S^k||^2 / ||F_T^k||^2.</summary>
    Normalized,
    /// <summary>BK-SDM style: sum_k mean((F_T^k - F_S^k)^2), the per-element MSE of each stage.</summary>
    Vanilla,
    /// <summary>No feature term (task + output KD only).</summary>
    None,
}

/// <summary>
/// sum_k w_k ||F_T^k - F_S^k||^2 / d_k over K feature pairs, d_k = ||F_T^k||^2 (normalized) or 1 (plain
/// sums; vanilla KD passes w_k / numel_k). Returns a differentiable scalar (gradients reach the student
/// features only) and, per pair, the squared error and the teacher's squared norm in double, for logs.
/// <see cref="TorchFeatureLoss"/> composes torch ops; <see cref="KernelFeatureLoss"/> runs the fused kernel.
/// </summary>
public interface IFeatureLoss
{
    string Name { get; }

    Tensor Apply(IReadOnlyList<Tensor> teacher, IReadOnlyList<Tensor> student, IReadOnlyList<double> weights, bool normalized,
        out double[] squaredErrors, out double[] teacherSquaredNorms);
}

/// <summary>The unfused reference: torch ops and autograd (two reads of each pair forward, more backward).</summary>
public sealed class TorchFeatureLoss : IFeatureLoss
{
    public string Name => "torch (unfused)";

    public Tensor Apply(IReadOnlyList<Tensor> teacher, IReadOnlyList<Tensor> student, IReadOnlyList<double> weights, bool normalized,
        out double[] squaredErrors, out double[] teacherSquaredNorms)
    {
        using var scope = NewDisposeScope();
        squaredErrors = new double[teacher.Count];
        teacherSquaredNorms = new double[teacher.Count];
        Tensor? total = null;
        for (int k = 0; k < teacher.Count; k++)
        {
            var error = (student[k] - teacher[k]).pow(2).sum();
            double norm;
            using (no_grad()) norm = teacher[k].to_type(ScalarType.Float64).pow(2).sum().item<double>();
            squaredErrors[k] = error.to_type(ScalarType.Float64).item<double>();
            teacherSquaredNorms[k] = norm;
            double scale = weights[k] / (normalized ? Math.Max(norm, 1e-12) : 1.0);
            var term = error * scale;
            total = total is null ? term : total + term;
        }
        return (total ?? zeros(1).sum()).MoveToOuterDisposeScope();
    }
}
