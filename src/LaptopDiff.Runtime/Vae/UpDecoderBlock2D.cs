using LaptopDiff.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// diffusers' <c>UpDecoderBlock2D</c>: <c>resnets.*</c> (no skip connections, unlike the U-Net's up stages), then
/// <c>upsamplers.0</c> (nearest 2x + 3x3 conv) except in the last stage.
/// </summary>
public sealed class UpDecoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<VaeResnetBlock> resnets;
    private readonly ModuleList<Upsample2D> upsamplers;

    public UpDecoderBlock2D(int inChannels, int outChannels, int layers, int groups, bool addUpsample)
        : base(nameof(UpDecoderBlock2D))
    {
        resnets = new ModuleList<VaeResnetBlock>(
            Enumerable.Range(0, layers).Select(i => new VaeResnetBlock(i == 0 ? inChannels : outChannels, outChannels, groups)).ToArray());
        upsamplers = addUpsample ? new ModuleList<Upsample2D>(new Upsample2D(outChannels)) : new ModuleList<Upsample2D>();
        RegisterComponents();
    }

    /// <summary>[B,Cin,H,W] -> [B,Cout,2H,2W] (no doubling in the last stage).</summary>
    public override Tensor forward(Tensor x)
    {
        var h = resnets[0].forward(x);
        foreach (var resnet in resnets.Skip(1)) h = h.Consume(resnet.forward);
        foreach (var up in upsamplers) h = h.Consume(up.forward);
        return h;
    }
}
