using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// CLIP's contrastive loss between captions and the clean latents of their images, with a tiny latent encoder in place
/// of CLIP's image tower: the text encoder's last hidden states averaged over all 77 positions (so the padding
/// positions, which see the whole caption through the causal mask, must carry it too) and the flattened latents are
/// projected to one space; in a batch each caption must pick its own image (and each image its caption) at a learned
/// temperature. Captions of the same digit end up near one point and different digits far apart, without labels.
/// Trained with the text encoder's first stage and never shipped.
/// </summary>
public sealed class CaptionLatentContrast : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear text_projection;
    private readonly Linear latent_fc1;
    private readonly Linear latent_fc2;
    private readonly Parameter logit_scale;

    /// <param name="latentShape">[C, H, W] of one latent.</param>
    public CaptionLatentContrast(int hidden, long[] latentShape, int embedDim = 64, int width = 256) : base(nameof(CaptionLatentContrast))
    {
        text_projection = nn.Linear(hidden, embedDim);
        latent_fc1 = nn.Linear(latentShape.Aggregate(1L, (p, d) => p * d), width);
        latent_fc2 = nn.Linear(width, embedDim);
        logit_scale = nn.Parameter(tensor(MathF.Log(1 / 0.07f)));                           // CLIP's initial temperature
        RegisterComponents();
    }

    /// <summary>States [B,T,D] and clean latents [B,C,H,W] -> the symmetric cross-entropy of the B x B similarities (scalar).</summary>
    public override Tensor forward(Tensor states, Tensor latents)
    {
        using var scope = NewDisposeScope();
        long b = states.shape[0];
        var text = nn.functional.normalize(text_projection.forward(states.mean([1])), dim: 1);                       // [B,E]
        var image = nn.functional.normalize(latent_fc2.forward(nn.functional.silu(latent_fc1.forward(latents.flatten(1)))), dim: 1);   // [B,E]
        var logits = logit_scale.clamp(max: MathF.Log(100)).exp() * text.matmul(image.t());                        // [B,B]
        var targets = arange(b, device: logits.device);
        var loss = (nn.functional.cross_entropy(logits, targets) + nn.functional.cross_entropy(logits.t(), targets)) / 2;
        return loss.MoveToOuterDisposeScope();
    }
}
