using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Conditioning;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// Teacher training from scratch: the eps-prediction task loss ||eps - eps_theta(x_t, t, c)||^2 (mean over
/// samples of the per-sample MSE), with the class conditioner, when there is one, trained jointly.
/// </summary>
public sealed class DenoisingObjective : ITrainingObjective
{
    public const string TaskTerm = "task";

    private readonly UNet2DCondition _unet;
    private readonly ClassConditioner? _conditioner;

    public DenoisingObjective(UNet2DCondition unet, ClassConditioner? conditioner)
    {
        _unet = unet;
        _conditioner = conditioner;
        var trained = new List<(string, nn.Module)> { ("unet", unet) };
        if (conditioner != null) trained.Add(("conditioner", conditioner));
        Trained = trained;
    }

    public IReadOnlyList<(string Prefix, nn.Module Module)> Trained { get; }

    public LossTerms Loss(TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        using var output = _unet.Forward(batch.Inputs(_conditioner));
        var task = Ops.MeanSquaredError(output.Sample, batch.Noise);              // equal-size samples: mean of per-sample MSE
        double value = task.item<float>();
        return new LossTerms(task.MoveToOuterDisposeScope(), [KeyValuePair.Create(TaskTerm, value)]);
    }
}
