using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Execution;

/// <summary>What a step does to the running state.</summary>
public enum StepKind
{
    /// <summary>temb = time_embedding(time_proj(timestep)).</summary>
    TimeEmbedding,
    /// <summary>temb += add_embedding(cat(text_embeds, add_time_proj(time_ids))) (SDXL text_time).</summary>
    AdditionEmbedding,
    /// <summary>h = conv_in(sample); pushes the first skip.</summary>
    ConvIn,
    /// <summary>h = resnet(h, temb) (down and mid stages).</summary>
    Resnet,
    /// <summary>h = resnet(cat(h, pop skip), temb) (up stages); skipped, it still pops and drops its skip.</summary>
    UpResnet,
    /// <summary>A whole Transformer2D: h = transformer(h, context).</summary>
    Transformer,
    /// <summary>Transformer shell, first half: residual = h; h = proj_in(norm(h)) as tokens [B,HW,C].</summary>
    TransformerEnter,
    /// <summary>One BasicTransformerBlock on the tokens.</summary>
    TransformerBlock,
    /// <summary>Transformer shell, second half: h = residual + proj_out(tokens) back in [B,C,H,W].</summary>
    TransformerExit,
    Downsample,
    Upsample,
    /// <summary>eps = conv_out(silu(conv_norm_out(h))).</summary>
    OutputHead,
}

/// <summary>
/// One step of the execution plan. Steps exist for every component of the base layout, removed units
/// included (they are always skipped), so step indices are the same for a teacher and its students.
/// </summary>
public sealed class PlanStep
{
    internal PlanStep(int index, StepKind kind, LayoutComponent component, int unitIndex, bool removed, nn.Module? module)
    {
        Index = index;
        Kind = kind;
        Component = component;
        UnitIndex = unitIndex;
        Removed = removed;
        Module = module;
    }

    public int Index { get; }
    public StepKind Kind { get; }
    /// <summary>The layout component run by this step (the shell for TransformerEnter/Exit).</summary>
    public LayoutComponent Component { get; }
    public string Id => Component.Id;
    public string Stage => Component.Stage;
    /// <summary>Index into <see cref="ExecutionPlan.Units"/> when the step is a pruning unit, else -1.</summary>
    public int UnitIndex { get; }
    /// <summary>The unit is removed from this model (no weights): the step is always skipped.</summary>
    public bool Removed { get; }
    /// <summary>After this step, h is pushed on the skip stack (conv_in, each down layer, each downsampler).</summary>
    public bool PushesSkip { get; internal set; }
    /// <summary>Stage label whose feature is h after this step (the last step of a down/mid/up stage), or null.</summary>
    public string? EndsStage { get; internal set; }

    internal nn.Module? Module { get; }

    public override string ToString() =>
        $"{Index}: {Kind} {Id}{(UnitIndex >= 0 ? $" (unit {UnitIndex})" : "")}{(Removed ? " removed" : "")}{(PushesSkip ? " push" : "")}{(EndsStage != null ? $" ends {EndsStage}" : "")}";
}
