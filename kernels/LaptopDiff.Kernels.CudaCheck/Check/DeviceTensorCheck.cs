using TorchSharp;

namespace LaptopDiff.Kernels.CudaCheck;

/// <summary>
/// The TorchSharp-facing part of <see cref="DeviceCheck"/>: CPU tensors through
/// <see cref="ILossKernels"/> (staged to a CUDA device) and the autograd function, against a float64
/// TorchSharp reference. Kept apart so the rest of the check runs where libtorch is missing.
/// </summary>
internal static class DeviceTensorCheck
{
    public static IEnumerable<DeviceCheckResult> Run(ILossKernels kernels, bool small, int seed)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(seed);
        IReadOnlyList<long[]> shapes = small ? [[2, 3, 7, 5], [1], [4099]] : KernelBenchmarkOptions.Sd15Stages.Shapes;
        var teacher = shapes.Select(s => torch.randn(s)).ToArray();
        var student = teacher.Select(t => (t * (1 + 0.1 * torch.randn_like(t))).requires_grad_()).ToArray();
        var leaves = student.Select(s => s.detach().requires_grad_()).ToArray();
        var weights = Enumerable.Range(0, shapes.Count).Select(k => 1.0 / (k + 1)).ToArray();

        var loss = new FeatureDistillationLoss(kernels).Apply(teacher, leaves.Select(l => l.view(l.shape)).ToArray(), weights, out var values);
        loss.backward();

        var reference = leaves.Select(l => l.detach().to(torch.float64).requires_grad_()).ToArray();
        torch.Tensor total = torch.tensor(0.0, torch.float64);
        for (int k = 0; k < shapes.Count; k++)
        {
            var t = teacher[k].to(torch.float64);
            total = total + (reference[k] - t).pow(2).sum() / t.pow(2).sum() * weights[k];
        }
        total.backward();
        double expected = total.ToDouble();
        yield return new DeviceCheckResult("tensor path: normalized feature loss value (staged CPU tensors)",
            Math.Abs(values.Total - expected) / Math.Abs(expected), 1e-6);
        double worst = 0;
        for (int k = 0; k < shapes.Count; k++)
        {
            var e = reference[k].grad!;
            double scale = e.abs().max().ToDouble();
            worst = Math.Max(worst, (leaves[k].grad!.to(torch.float64) - e).abs().max().ToDouble() / scale);
        }
        yield return new DeviceCheckResult("tensor path: feature loss gradients through autograd (staged CPU tensors)", worst, 1e-5);

        var outputShape = small ? new long[] { 3, 5, 7 } : [2, 4, 64, 64];
        var teacherOutput = torch.randn(outputShape);
        var ablated = torch.randn([8, .. outputShape]);
        var sums = new double[8 * outputShape[0]];
        kernels.AblationSquaredErrors(teacherOutput, ablated, sums);
        double ablationWorst = 0;
        for (int a = 0; a < 8; a++)
            for (int b = 0; b < outputShape[0]; b++)
            {
                double e = (ablated[a, b].to(torch.float64) - teacherOutput[b].to(torch.float64)).pow(2).sum().ToDouble();
                ablationWorst = Math.Max(ablationWorst, Math.Abs(sums[a * outputShape[0] + b] - e) / e);
            }
        yield return new DeviceCheckResult("tensor path: ablation sums A=8 (staged CPU tensors)", ablationWorst, 1e-6);
    }
}
