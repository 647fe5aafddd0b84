using LaptopDiff.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// diffusers' <c>ResnetBlock2D</c> as the VAE builds it: no time embedding (<c>temb_channels=None</c>, so no
/// <c>time_emb_proj</c> key), eps 1e-6, output scale 1, dropout 0:
/// <c>out = shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))))))</c>; <c>conv_shortcut</c> only when channels change.
/// </summary>
public sealed class VaeResnetBlock : nn.Module<Tensor, Tensor>
{
    internal const double Eps = 1e-6;

    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly GroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;

    public VaeResnetBlock(int inChannels, int outChannels, int groups) : base(nameof(VaeResnetBlock))
    {
        norm1 = Ops.GroupNorm(groups, inChannels, Eps);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        norm2 = Ops.GroupNorm(groups, outChannels, Eps);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        if (inChannels != outChannels) conv_shortcut = nn.Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    /// <summary>[B,Cin,H,W] -> [B,Cout,H,W].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Temporaries.NormSilu(norm1, x)                    // [B,Ci,H,W]
            .Consume(t => Ops.Conv2d(conv1, t))                  // [B,Co,H,W]
            .Consume(t => Temporaries.NormSilu(norm2, t))
            .Consume(t => Ops.Conv2d(conv2, t));
        // conv2 does not save its output for backward, so adding in place is safe with autograd too
        if (conv_shortcut is null) h.add_(x);
        else using (var shortcut = Ops.Conv2d(conv_shortcut, x)) h.add_(shortcut);
        return h.MoveToOuterDisposeScope();
    }
}
