using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// diffusers' <c>UNetMidBlock2D</c> as the VAE builds it (one layer, no time embedding): <c>resnets.0</c>, then
/// <c>attentions.0</c> (unless <c>mid_block_add_attention</c> is false: no key), then <c>resnets.1</c>.
/// </summary>
public sealed class VaeMidBlock : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<VaeAttention> attentions;
    private readonly ModuleList<VaeResnetBlock> resnets;

    public VaeMidBlock(int channels, int groups, bool addAttention) : base(nameof(VaeMidBlock))
    {
        attentions = addAttention ? new ModuleList<VaeAttention>(new VaeAttention(channels, groups)) : new ModuleList<VaeAttention>();
        resnets = new ModuleList<VaeResnetBlock>(new VaeResnetBlock(channels, channels, groups), new VaeResnetBlock(channels, channels, groups));
        RegisterComponents();
    }

    /// <summary>[B,C,H,W] -> [B,C,H,W].</summary>
    public override Tensor forward(Tensor x)
    {
        var h = resnets[0].forward(x);
        if (attentions.Count > 0) h = h.Consume(attentions[0].forward);
        return h.Consume(resnets[1].forward);
    }
}
