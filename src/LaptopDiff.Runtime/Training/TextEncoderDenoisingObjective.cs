using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// Trains a U-Net and its text encoder together on the eps-prediction loss ||eps - eps_theta(x_t, t, E(ids))||^2 (mean
/// of the per-sample MSE): the conditioning is the text encoder's last hidden state of the batch's caption ids (as
/// SD-1.5 conditions), recomputed every step, so the denoising loss is what teaches the text encoder.
/// </summary>
public sealed class TextEncoderDenoisingObjective : ITrainingObjective
{
    public const string UNetPrefix = "unet";
    public const string TextEncoderPrefix = "text_encoder";

    private readonly UNet2DCondition _unet;
    private readonly ClipTextModel _textEncoder;

    public TextEncoderDenoisingObjective(UNet2DCondition unet, ClipTextModel textEncoder)
    {
        _unet = unet;
        _textEncoder = textEncoder;
        Trained = [(UNetPrefix, unet), (TextEncoderPrefix, textEncoder)];
    }

    public IReadOnlyList<(string Prefix, nn.Module Module)> Trained { get; }

    public LossTerms Loss(TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        var ids = batch.InputIds ?? throw new InvalidOperationException("training the text encoder needs batches of caption ids");
        using var text = _textEncoder.forward(ids);
        using var output = _unet.Forward(new UNetInputs(batch.Noisy, batch.Timesteps, text.LastHiddenState, batch.TextEmbeds, batch.TimeIds));
        var task = nn.functional.mse_loss(output.Sample, batch.Noise);
        double value = task.item<float>();
        return new LossTerms(task.MoveToOuterDisposeScope(), [KeyValuePair.Create(DenoisingObjective.TaskTerm, value)]);
    }
}
