using LaptopDiff.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// diffusers' VAE <c>Encoder</c> (<c>double_z</c>): <c>conv_in</c>, <c>down_blocks.*</c>, <c>mid_block</c>,
/// <c>conv_norm_out</c> + SiLU, <c>conv_out</c> to mean and log-variance channels.
/// </summary>
public sealed class VaeEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv_in;
    private readonly ModuleList<DownEncoderBlock2D> down_blocks;
    private readonly VaeMidBlock mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    public VaeEncoder(VaeConfig config) : base(nameof(VaeEncoder))
    {
        var channels = config.BlockOutChannels;
        int stages = channels.Count, groups = config.NormGroups;
        conv_in = nn.Conv2d(config.InChannels, channels[0], 3, padding: 1);
        down_blocks = new ModuleList<DownEncoderBlock2D>(Enumerable.Range(0, stages).Select(i => new DownEncoderBlock2D(
            i == 0 ? channels[0] : channels[i - 1], channels[i], config.LayersPerBlock, groups, addDownsample: i < stages - 1)).ToArray());
        mid_block = new VaeMidBlock(channels[^1], groups, config.MidBlockAttention);
        conv_norm_out = Ops.GroupNorm(groups, channels[^1], VaeResnetBlock.Eps);
        conv_out = nn.Conv2d(channels[^1], 2 * config.LatentChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>Images [B,Cin,H,W] -> moments [B,2L,H/f,W/f] (f = the config's downscale factor).</summary>
    public override Tensor forward(Tensor images)
    {
        var h = Ops.Conv2d(conv_in, images);
        foreach (var block in down_blocks) h = h.Consume(block.forward);
        return h.Consume(mid_block.forward)
            .Consume(t => Temporaries.NormSilu(conv_norm_out, t))
            .Consume(t => Ops.Conv2d(conv_out, t));
    }
}
