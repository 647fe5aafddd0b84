using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// The auxiliary head of a text encoder trained from scratch with its U-Net: the encoder's last hidden states averaged
/// over all positions, through a two-layer MLP, predict the image's clean latents. Used only while training and never
/// shipped. Why: at the start neither the U-Net nor the text encoder knows the other, and the denoising loss alone gives
/// the pair almost no signal to meet on (the U-Net first learns to denoise unconditionally and ignores the text); this
/// loss makes every position of the states carry what the caption says about the image (for digits: which digit) from
/// the first steps, the way CLIP's pretraining does for a real SD text encoder, and the U-Net's cross-attention then
/// finds it. It needs only image-caption pairs, no labels.
/// </summary>
public sealed class CaptionLatentHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly long[] _latentShape;

    /// <param name="latentShape">[C, H, W] of one latent.</param>
    public CaptionLatentHead(int hidden, long[] latentShape, int width = 256) : base(nameof(CaptionLatentHead))
    {
        _latentShape = latentShape;
        fc1 = nn.Linear(hidden, width);
        fc2 = nn.Linear(width, latentShape.Aggregate(1L, (p, d) => p * d));
        RegisterComponents();
    }

    /// <summary>States [B,T,D] -> predicted latents [B,C,H,W].</summary>
    public override Tensor forward(Tensor states)
    {
        using var scope = NewDisposeScope();
        var pooled = states.mean([1]);                                                       // [B,D]
        var flat = fc2.forward(nn.functional.silu(fc1.forward(pooled)));                     // [B,C*H*W]
        return flat.reshape([states.shape[0], .. _latentShape]).MoveToOuterDisposeScope();
    }
}
