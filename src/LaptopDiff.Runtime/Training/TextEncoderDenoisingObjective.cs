using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// Trains a U-Net and its text encoder together on the eps-prediction loss ||eps - eps_theta(x_t, t, E(ids))||^2 (mean
/// of the per-sample MSE): the conditioning is the text encoder's last hidden state of the batch's caption ids (as
/// SD-1.5 conditions), recomputed every step, so the denoising loss is what teaches the text encoder. With a
/// <see cref="CaptionLatentHead"/> weight w > 0 it adds w x ||head(E(ids)) - x_0||^2 (term <c>aux</c>).
/// </summary>
public sealed class TextEncoderDenoisingObjective : ITrainingObjective
{
    public const string UNetPrefix = "unet";
    public const string TextEncoderPrefix = "text_encoder";
    public const string HeadPrefix = "caption_head";
    public const string AuxTerm = "aux";

    private readonly UNet2DCondition _unet;
    private readonly ClipTextModel _textEncoder;
    private readonly CaptionLatentHead? _head;
    private readonly double _auxWeight;

    /// <param name="head">The auxiliary head, trained with the rest (checkpointed, never shipped); null for none.</param>
    public TextEncoderDenoisingObjective(UNet2DCondition unet, ClipTextModel textEncoder, CaptionLatentHead? head = null, double auxWeight = 0)
    {
        if ((head is null) != (auxWeight == 0) || !(auxWeight >= 0)) throw new ArgumentException("a caption head goes with a positive auxiliary weight");
        _unet = unet;
        _textEncoder = textEncoder;
        _head = head;
        _auxWeight = auxWeight;
        var trained = new List<(string, nn.Module)> { (UNetPrefix, unet), (TextEncoderPrefix, textEncoder) };
        if (head != null) trained.Add((HeadPrefix, head));
        Trained = trained;
    }

    public IReadOnlyList<(string Prefix, nn.Module Module)> Trained { get; }

    public LossTerms Loss(TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        var ids = batch.InputIds ?? throw new InvalidOperationException("training the text encoder needs batches of caption ids");
        using var text = _textEncoder.forward(ids);
        using var output = _unet.Forward(new UNetInputs(batch.Noisy, batch.Timesteps, text.LastHiddenState, batch.TextEmbeds, batch.TimeIds));
        var task = nn.functional.mse_loss(output.Sample, batch.Noise);
        var terms = new List<KeyValuePair<string, double>> { KeyValuePair.Create(DenoisingObjective.TaskTerm, (double)task.item<float>()) };
        var total = task;
        if (_head != null)
        {
            var clean = batch.Clean ?? throw new InvalidOperationException("the caption head needs the batch's clean latents");
            var aux = nn.functional.mse_loss(_head.forward(text.LastHiddenState), clean);
            terms.Add(KeyValuePair.Create(AuxTerm, (double)aux.item<float>()));
            total = task + _auxWeight * aux;
        }
        return new LossTerms(total.MoveToOuterDisposeScope(), terms);
    }
}
