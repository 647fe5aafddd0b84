using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// A diffusion U-Net as declared in a <c>*.unet.yaml</c> file, after parsing and defaulting.
    /// The structure follows diffusers' <c>UNet2DConditionModel</c>: conv_in, time embedding (plus the
    /// optional SDXL text_time embedding), down stages, mid block, up stages, output head.
    /// </summary>
    public sealed record UNetSpec
    {
        /// <summary>C# class name of the generated model, e.g. <c>Sd15UNet</c>.</summary>
        public string Name { get; init; } = "";
        public string? Description { get; init; }
        /// <summary>Latent height and width the model is meant for (benchmarks, synthetic inputs).</summary>
        public int SampleSize { get; init; }
        public int InChannels { get; init; } = 4;
        public int OutChannels { get; init; } = 4;
        public int CrossAttentionDim { get; init; }
        /// <summary>Width of the time embedding; diffusers uses 4 x the first stage's channels.</summary>
        public int TimeEmbeddingDim { get; init; }
        public bool FlipSinToCos { get; init; } = true;
        public int FreqShift { get; init; }
        public NormSpec Norm { get; init; } = new NormSpec();
        public AttentionProjection Projection { get; init; } = AttentionProjection.Conv;
        public AdditionEmbeddingSpec? AdditionEmbedding { get; init; }
        public EquatableArray<StageSpec> Down { get; init; } = EquatableArray<StageSpec>.Empty;
        public MidSpec Mid { get; init; } = new MidSpec();
        public EquatableArray<StageSpec> Up { get; init; } = EquatableArray<StageSpec>.Empty;
        public PruneGranularity Granularity { get; init; } = PruneGranularity.Transformer;
        /// <summary>Unit ids the author declared not prunable.</summary>
        public EquatableArray<string> Pinned { get; init; } = EquatableArray<string>.Empty;
        /// <summary>Unit ids removed from this (pruned) model; empty for a full model.</summary>
        public EquatableArray<string> Removed { get; init; } = EquatableArray<string>.Empty;
        /// <summary>File name of the spec this one prunes (<c>base:</c>), or null.</summary>
        public string? Base { get; init; }
        /// <summary>YAML position of the <c>base:</c> value, for "base not found".</summary>
        public SourceSpan BaseSource { get; init; }
        /// <summary>
        /// Where each <c>removed:</c> and <c>pinned:</c> entry is written, so problems found only when
        /// the layout is expanded (unknown or unprunable units) point at the entry.
        /// </summary>
        public EquatableArray<UnitMention> UnitMentions { get; init; } = EquatableArray<UnitMention>.Empty;
        public ProvenanceSpec? Provenance { get; init; }
        /// <summary>
        /// In a pruned overlay: the mid block cut down to <see cref="MidKind.Resnet"/> (its first ResNet only, as
        /// diffusers' <c>UNetMidBlock2D</c> without attention) or <see cref="MidKind.None"/>; null to keep the base's.
        /// Surviving tensors keep their keys, so the teacher's checkpoint still initialises the student.
        /// </summary>
        public MidKind? MidReduction { get; init; }
        public SourceSpan MidReductionSource { get; init; }

        /// <summary>
        /// This spec without its positions in the YAML (which only place diagnostics): what a generated class
        /// embeds, equal for two files that differ only in layout or comments.
        /// </summary>
        public UNetSpec WithoutSources() => this with
        {
            Down = Down.Select(s => s with { Source = default }).ToEquatableArray(),
            Up = Up.Select(s => s with { Source = default }).ToEquatableArray(),
            Mid = Mid with { Source = default },
            BaseSource = default,
            UnitMentions = EquatableArray<UnitMention>.Empty,
            MidReductionSource = default,
        };
    }

    public sealed record NormSpec
    {
        public int Groups { get; init; } = 32;
        /// <summary>Epsilon of ResNet GroupNorms and the output GroupNorm (diffusers <c>norm_eps</c>).</summary>
        public double Eps { get; init; } = 1e-5;
        /// <summary>Epsilon of the GroupNorm at a Transformer2D's input (fixed at 1e-6 in diffusers).</summary>
        public double TransformerEps { get; init; } = 1e-6;
        /// <summary>Epsilon of the LayerNorms inside transformer blocks (diffusers default 1e-5).</summary>
        public double LayerNormEps { get; init; } = 1e-5;
    }

    /// <summary>One down or up stage: a diffusers CrossAttn/plain Down/UpBlock2D.</summary>
    public sealed record StageSpec
    {
        public BlockKind Kind { get; init; }
        /// <summary>Output channels of every ResNet in the stage.</summary>
        public int Channels { get; init; }
        public int Layers { get; init; }
        /// <summary>Attention heads of the stage's transformers (0 for plain stages).</summary>
        public int Heads { get; init; }
        /// <summary>Transformer blocks per layer (one entry per layer; empty for plain stages).</summary>
        public EquatableArray<int> TransformerDepth { get; init; } = EquatableArray<int>.Empty;
        /// <summary>Whether the stage ends with a down- or upsampler.</summary>
        public bool Resample { get; init; }
        /// <summary>YAML position of the stage, for diagnostics found after parsing.</summary>
        public SourceSpan Source { get; init; }
    }

    public sealed record MidSpec
    {
        public MidKind Kind { get; init; } = MidKind.CrossAttn;
        public int Heads { get; init; }
        /// <summary>Transformer blocks of the mid attention (0 unless cross_attn).</summary>
        public int TransformerDepth { get; init; }
        public SourceSpan Source { get; init; }
    }

    /// <summary>SDXL's <c>text_time</c> added conditioning: pooled text embeds + sinusoidal time_ids.</summary>
    public sealed record AdditionEmbeddingSpec
    {
        /// <summary>Sinusoidal width per time_ids entry (diffusers <c>addition_time_embed_dim</c>).</summary>
        public int TimeEmbedDim { get; init; }
        /// <summary>Width of the pooled text embedding (<c>text_embeds</c>).</summary>
        public int TextEmbedDim { get; init; }
        /// <summary>Number of micro-conditioning values in <c>time_ids</c> (6 for SDXL).</summary>
        public int TimeIdCount { get; init; } = 6;
        public int ProjectionInputDim => TextEmbedDim + TimeIdCount * TimeEmbedDim;
    }

    public sealed record ProvenanceSpec
    {
        public string? Criterion { get; init; }
        public double? Ratio { get; init; }
        public string? Date { get; init; }
        public string? Method { get; init; }
    }

    public enum BlockKind { Plain, CrossAttn }

    public enum MidKind { None, Resnet, CrossAttn }

    public enum AttentionProjection { Conv, Linear }

    /// <summary>What a transformer unit is: a whole Transformer2DModel, or each BasicTransformerBlock.</summary>
    public enum PruneGranularity { Transformer, TransformerBlock }

    /// <summary>A unit id as written in the <c>removed</c> or <c>pinned</c> list (<see cref="List"/>), with its position.</summary>
    public readonly record struct UnitMention(string List, string Id, SourceSpan Span);

    /// <summary>A 1-based line/column range in a YAML file; default when unknown.</summary>
    public readonly record struct SourceSpan(int Line, int Column, int EndLine, int EndColumn)
    {
        public bool IsKnown => Line > 0;
    }
}
