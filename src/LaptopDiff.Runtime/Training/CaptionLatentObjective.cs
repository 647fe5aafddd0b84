using LaptopDiff.Runtime.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// Trains a text encoder alone, before any U-Net, on captions against the clean latents of their images: either the
/// regression ||head(E(ids)) - x_0||^2 of a <see cref="CaptionLatentHead"/> (the best a caption can do is the mean
/// latent of the images it describes) or the contrastive loss of a <see cref="CaptionLatentContrast"/>; term
/// <c>task</c>. Either way captions of the same digit are pulled together and different digits apart. Cheap (no
/// U-Net), so the text encoder can see many caption variants (filler tokens) before the U-Net trains against it
/// frozen; the head is never shipped.
/// </summary>
public sealed class CaptionLatentObjective : ITrainingObjective
{
    private readonly ClipTextModel _textEncoder;
    private readonly nn.Module _head;
    private readonly Func<Tensor, Tensor, Tensor> _loss;

    public CaptionLatentObjective(ClipTextModel textEncoder, CaptionLatentHead head)
        : this(textEncoder, head, (states, clean) => nn.functional.mse_loss(head.forward(states), clean)) { }

    public CaptionLatentObjective(ClipTextModel textEncoder, CaptionLatentContrast head) : this(textEncoder, head, head.forward) { }

    private CaptionLatentObjective(ClipTextModel textEncoder, nn.Module head, Func<Tensor, Tensor, Tensor> loss)
    {
        _textEncoder = textEncoder;
        _head = head;
        _loss = loss;
        Trained = [(TextEncoderDenoisingObjective.TextEncoderPrefix, textEncoder), (TextEncoderDenoisingObjective.HeadPrefix, head)];
    }

    public IReadOnlyList<(string Prefix, nn.Module Module)> Trained { get; }

    public LossTerms Loss(TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        var ids = batch.InputIds ?? throw new InvalidOperationException("training the text encoder needs batches of caption ids");
        var clean = batch.Clean ?? throw new InvalidOperationException("the caption head needs the batch's clean latents");
        using var text = _textEncoder.forward(ids);
        var loss = _loss(text.LastHiddenState, clean);
        return new LossTerms(loss.MoveToOuterDisposeScope(), [KeyValuePair.Create(DenoisingObjective.TaskTerm, (double)loss.item<float>())]);
    }
}
