using LaptopDiff.Kernels;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Distillation;

/// <summary>The distillation feature term on the fused kernel (<see cref="FeatureDistillationLoss"/>: one pass per pair forward, gradient written in the same pass).</summary>
public sealed class KernelFeatureLoss(ILossKernels kernels) : IFeatureLoss
{
    private readonly FeatureDistillationLoss _normalized = new(kernels, new FeatureLossOptions(FeatureLossMode.Normalized));
    private readonly FeatureDistillationLoss _vanilla = new(kernels, new FeatureLossOptions(FeatureLossMode.Vanilla));

    public string Name => $"fused {kernels.Path.Name()} ({kernels.Device})";

    public Tensor Apply(IReadOnlyList<Tensor> teacher, IReadOnlyList<Tensor> student, IReadOnlyList<double> weights, bool normalized,
        out double[] squaredErrors, out double[] teacherSquaredNorms)
    {
        var loss = (normalized ? _normalized : _vanilla).Apply(teacher, student, weights, out var values);
        squaredErrors = values.SquaredErrors.ToArray();
        teacherSquaredNorms = values.TeacherSquaredNorms.ToArray();
        return loss;
    }
}
