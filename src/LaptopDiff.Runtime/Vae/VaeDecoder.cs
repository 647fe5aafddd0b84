using LaptopDiff.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// diffusers' VAE <c>Decoder</c> (group norms, no spatial norm): <c>conv_in</c>, <c>mid_block</c>, <c>up_blocks.*</c>
/// over the reversed channels, <c>conv_norm_out</c> + SiLU, <c>conv_out</c>.
/// </summary>
public sealed class VaeDecoder : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv_in;
    private readonly ModuleList<UpDecoderBlock2D> up_blocks;
    private readonly VaeMidBlock mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    public VaeDecoder(VaeConfig config) : base(nameof(VaeDecoder))
    {
        var reversed = config.BlockOutChannels.Reverse().ToList();
        int stages = reversed.Count, groups = config.NormGroups;
        conv_in = nn.Conv2d(config.LatentChannels, reversed[0], 3, padding: 1);
        up_blocks = new ModuleList<UpDecoderBlock2D>(Enumerable.Range(0, stages).Select(i => new UpDecoderBlock2D(
            i == 0 ? reversed[0] : reversed[i - 1], reversed[i], config.LayersPerBlock + 1, groups, addUpsample: i < stages - 1)).ToArray());
        mid_block = new VaeMidBlock(reversed[0], groups, config.MidBlockAttention);
        conv_norm_out = Ops.GroupNorm(groups, reversed[^1], VaeResnetBlock.Eps);
        conv_out = nn.Conv2d(reversed[^1], config.OutChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>Latents [B,L,h,w] (after <c>post_quant_conv</c>) -> images [B,Cout,h*f,w*f].</summary>
    public override Tensor forward(Tensor latents)
    {
        var h = Ops.Conv2d(conv_in, latents).Consume(mid_block.forward);
        foreach (var block in up_blocks) h = h.Consume(block.forward);
        return h.Consume(t => Temporaries.NormSilu(conv_norm_out, t)).Consume(t => Ops.Conv2d(conv_out, t));
    }
}
