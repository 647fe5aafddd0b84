using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>
/// Containers of one down stage, up stage or the mid block (diffusers' CrossAttnDownBlock2D and kin).
/// They only hold modules under diffusers' names; the execution plan runs them. Units are keyed by
/// their original layer index, so a pruned stage keeps holes (e.g. <c>resnets.0</c>, <c>resnets.2</c>).
/// Registration order is diffusers': attentions, resnets, then the resampler.
/// </summary>
public sealed class UNetStage : nn.Module
{
    private readonly ModuleDict<Transformer2DModel>? attentions;
    private readonly ModuleDict<ResnetBlock2D> resnets;
    private readonly ModuleList<Downsample2D>? downsamplers;
    private readonly ModuleList<Upsample2D>? upsamplers;

    internal UNetStage(string name, bool hasAttentions, Downsample2D? downsampler, Upsample2D? upsampler,
        IEnumerable<(int Layer, ResnetBlock2D Block)> resnetBlocks, IEnumerable<(int Layer, Transformer2DModel Block)> attentionBlocks)
        : base(name)
    {
        if (hasAttentions)
        {
            attentions = new ModuleDict<Transformer2DModel>();
            foreach (var (layer, block) in attentionBlocks) attentions.Add((Key(layer), block));
        }
        resnets = new ModuleDict<ResnetBlock2D>();
        foreach (var (layer, block) in resnetBlocks) resnets.Add((Key(layer), block));
        if (downsampler != null) downsamplers = new ModuleList<Downsample2D>(downsampler);
        if (upsampler != null) upsamplers = new ModuleList<Upsample2D>(upsampler);
        RegisterComponents();
    }

    public ResnetBlock2D? Resnet(int layer) => resnets.TryGetValue(Key(layer), out var r) ? r : null;

    public Transformer2DModel? Attention(int layer) =>
        attentions != null && attentions.TryGetValue(Key(layer), out var a) ? a : null;

    public Downsample2D? Downsampler => downsamplers?[0];

    public Upsample2D? Upsampler => upsamplers?[0];

    private static string Key(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
