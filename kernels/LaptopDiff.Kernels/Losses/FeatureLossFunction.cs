using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// TorchSharp custom autograd function behind <see cref="FeatureDistillationLoss.Apply(IReadOnlyList{torch.Tensor}, IReadOnlyList{torch.Tensor}, IReadOnlyList{double}, out FeatureLossValues)"/>.
/// apply arguments: K teacher features, K student features, one <see cref="FeatureLossCall"/>.
/// Call it through <see cref="FeatureDistillationLoss"/>, which validates everything first.
/// </summary>
public sealed class FeatureLossFunction : torch.autograd.SingleTensorFunction<FeatureLossFunction>
{
    public override string Name => "FeatureDistillationLoss";

    public override torch.Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
    {
        var call = (FeatureLossCall)vars[^1];
        var teacher = Slice(vars, 0, call.Pairs);
        var student = Slice(vars, call.Pairs, call.Pairs);
        call.Values = call.Loss.Forward(teacher, student, call.Weights);
        call.StudentShapes = student.Select(t => t.shape).ToArray();
        call.Device = student[0].device;
        ctx.save_for_backward([.. teacher, .. student]);
        ctx.save_data(nameof(FeatureLossCall), call);
        return torch.tensor((float)call.Values.Total, dtype: torch.float32, device: student[0].device);
    }

    /// <summary>
    /// Must not throw: TorchSharp cannot carry an exception out of backward and the process aborts.
    /// Inputs were validated in forward; should anything still fail, the error goes to stderr and the
    /// gradients are NaN, so the trainer's non-finite check stops the run instead of a silent zero.
    /// Returns one entry per apply argument: none for the frozen teacher, one per student feature,
    /// none for the call object.
    /// </summary>
    public override List<torch.Tensor> backward(torch.autograd.AutogradContext ctx, torch.Tensor grad_output)
    {
        var call = (FeatureLossCall)ctx.get_data(nameof(FeatureLossCall));
        int k = call.Pairs;
        var result = new List<torch.Tensor>(2 * k + 1);
        for (int i = 0; i < k; i++) result.Add(null!);
        List<torch.Tensor>? saved = null;
        List<torch.Tensor> gradients;
        try
        {
            saved = ctx.get_saved_variables();
            var student = saved.GetRange(k, k);
            gradients = student.Select(s => torch.empty_like(s)).ToList();
            call.Loss.Backward(saved.GetRange(0, k), student, call.Values!, grad_output.ToDouble(), gradients);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: feature distillation loss backward failed, gradients set to NaN: {e.Message}");
            gradients = call.StudentShapes
                .Select(shape => torch.full(shape, double.NaN, dtype: torch.float32, device: call.Device)).ToList();
        }
        finally
        {
            saved?.ForEach(t => t.Dispose());
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
