using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>diffusers' <c>DownEncoderBlock2D</c>: <c>resnets.*</c>, then <c>downsamplers.0</c> except in the last stage.</summary>
public sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<VaeResnetBlock> resnets;
    private readonly ModuleList<VaeDownsample2D> downsamplers;

    public DownEncoderBlock2D(int inChannels, int outChannels, int layers, int groups, bool addDownsample)
        : base(nameof(DownEncoderBlock2D))
    {
        resnets = new ModuleList<VaeResnetBlock>(
            Enumerable.Range(0, layers).Select(i => new VaeResnetBlock(i == 0 ? inChannels : outChannels, outChannels, groups)).ToArray());
        downsamplers = addDownsample ? new ModuleList<VaeDownsample2D>(new VaeDownsample2D(outChannels)) : new ModuleList<VaeDownsample2D>();
        RegisterComponents();
    }

    /// <summary>[B,Cin,H,W] -> [B,Cout,H/2,W/2] (no halving in the last stage).</summary>
    public override Tensor forward(Tensor x)
    {
        var h = resnets[0].forward(x);
        foreach (var resnet in resnets.Skip(1)) h = h.Consume(resnet.forward);
        foreach (var down in downsamplers) h = h.Consume(down.forward);
        return h;
    }
}
