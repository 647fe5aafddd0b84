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
        var resnetList = resnetBlocks.ToList();
        var attentionList = attentionBlocks.ToList();
        if (hasAttentions)
        {
            attentions = new ModuleDict<Transformer2DModel>();
            foreach (var (layer, block) in attentionList) attentions.Add((Key(layer), block));
        }
        resnets = new ModuleDict<ResnetBlock2D>();
        foreach (var (layer, block) in resnetList) resnets.Add((Key(layer), block));
        if (downsampler != null) downsamplers = new ModuleList<Downsample2D>(downsampler);
        if (upsampler != null) upsamplers = new ModuleList<Upsample2D>(upsampler);
        RegisterComponents();
        Resnets = resnetList.ToDictionary(r => r.Layer, r => r.Block);
        Attentions = attentionList.ToDictionary(a => a.Layer, a => a.Block);
        Downsamplers = downsampler != null ? [downsampler] : [];
        Upsamplers = upsampler != null ? [upsampler] : [];
    }

    /// <summary><c>resnets.N</c> by layer; a removed unit's layer is absent.</summary>
    public IReadOnlyDictionary<int, ResnetBlock2D> Resnets { get; }

    /// <summary><c>attentions.N</c> by layer (empty for a stage without attention); a removed unit's layer is absent.</summary>
    public IReadOnlyDictionary<int, Transformer2DModel> Attentions { get; }

    /// <summary><c>downsamplers.0</c> of a down stage that has one, else empty.</summary>
    public IReadOnlyList<Downsample2D> Downsamplers { get; }

    /// <summary><c>upsamplers.0</c> of an up stage that has one, else empty.</summary>
    public IReadOnlyList<Upsample2D> Upsamplers { get; }

    private static string Key(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
