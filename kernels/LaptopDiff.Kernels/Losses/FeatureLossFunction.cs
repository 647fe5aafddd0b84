using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// TorchSharp custom autograd function behind <see cref="FeatureDistillationLoss.Apply(IReadOnlyList{torch.Tensor}, IReadOnlyList{torch.Tensor}, IReadOnlyList{double}, out FeatureLossValues)"/>.
/// apply arguments: K teacher features, K student features, one <see cref="FeatureLossCall"/>.
/// Call it through <see cref="FeatureDistillationLoss"/>, which validates everything first.
/// </summary>
/// <remarks>
/// When training, forward computes dL/dF_S^k already (the loss is a sum of squares, so its gradient
/// needs only the teacher norms, known after one read of the teachers) and saves it; backward
/// returns it, times g when the upstream gradient g is not 1. The saved tensor is never modified,
/// so a second backward (retain_graph) gets the same answer.
/// </remarks>
public sealed class FeatureLossFunction : torch.autograd.SingleTensorFunction<FeatureLossFunction>
{
    public override string Name => "FeatureDistillationLoss";

    public override torch.Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
    {
        var call = (FeatureLossCall)vars[^1];
        var teacher = Slice(vars, 0, call.Pairs);
        var student = Slice(vars, call.Pairs, call.Pairs);
        call.StudentShapes = student.Select(t => t.shape).ToArray();
        call.Device = student[0].device;
        if (call.Training)
        {
            var gradients = student.Select(s => torch.empty_like(s)).ToList();
            call.Values = call.Loss.ForwardWithGradients(teacher, student, call.Weights, gradients);
            ctx.save_for_backward(gradients);
        }
        else
        {
            call.Values = call.Loss.Forward(teacher, student, call.Weights);
        }
        ctx.save_data(nameof(FeatureLossCall), call);
        return torch.tensor((float)call.Values.Total, dtype: torch.float32, device: call.Device);
    }

    /// <summary>
    /// Must not throw: TorchSharp cannot carry an exception out of backward and the process aborts.
    /// Inputs were validated before forward; should anything still fail, the error goes to stderr and
    /// the gradients are NaN, so the trainer's non-finite check stops the run instead of a silent zero.
    /// Returns one entry per apply argument: none for the frozen teacher, one per student feature,
    /// none for the call object.
    /// </summary>
    public override List<torch.Tensor> backward(torch.autograd.AutogradContext ctx, torch.Tensor grad_output)
    {
        var call = (FeatureLossCall)ctx.get_data(nameof(FeatureLossCall));
        int k = call.Pairs;
        var result = new List<torch.Tensor>(2 * k + 1);
        for (int i = 0; i < k; i++) result.Add(null!);
        List<torch.Tensor> gradients;
        try
        {
            var saved = ctx.get_saved_variables();
            if (saved.Count != k || saved.Any(t => t is null))
                throw new InvalidOperationException($"expected {k} saved gradients, found {saved.Count} (forward ran without grad?)");
            double g = grad_output.ToDouble();
            if (g == 1.0)
            {
                gradients = saved;
            }
            else
            {
                gradients = saved.Select(t => t.mul(g)).ToList();
                saved.ForEach(t => t.Dispose());
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: feature distillation loss backward failed, gradients set to NaN: {e.Message}");
            gradients = call.StudentShapes
                .Select(shape => torch.full(shape, double.NaN, dtype: torch.float32, device: call.Device)).ToList();
        }
        result.AddRange(gradients);
        result.Add(null!);
        return result;
    }

    private static torch.Tensor[] Slice(object[] vars, int start, int count)
    {
        var tensors = new torch.Tensor[count];
        for (int i = 0; i < count; i++) tensors[i] = (torch.Tensor)vars[start + i];
        return tensors;
    }
}
