using LaptopDiff.Runtime.Blocks;

namespace LaptopDiff.Runtime.Execution;

// The typed steps, one per StepKind, in the order of diffusers' forward: 1. time, 2. conv_in, 3-5. blocks, 6. head.
// A unit's module is null exactly when the unit is removed; such a step is always run as skipped.

/// <summary>temb = time_embedding(time_proj(timestep)).</summary>
internal sealed class TimeEmbeddingStep(UNet2DCondition model) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped) =>
        run.SetTemb(model.EmbedTime(run.Inputs.Timestep, run.Inputs.Sample.shape[0]));
}

/// <summary>temb += add_embedding(cat(text_embeds, add_time_proj(time_ids))).</summary>
internal sealed class AdditionEmbeddingStep(UNet2DCondition model) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped)
    {
        var text = run.Inputs.TextEmbeds ?? throw new ArgumentException("this model has a text_time addition embedding: UNetInputs.TextEmbeds is required");
        var ids = run.Inputs.TimeIds ?? throw new ArgumentException("this model has a text_time addition embedding: UNetInputs.TimeIds is required");
        using var aug = model.EmbedAddition(text, ids);
        run.SetTemb(run.Temb!.add(aug));
    }
}

/// <summary>h = conv_in(sample).</summary>
internal sealed class ConvInStep(UNet2DCondition model) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped) => run.SetHidden(model.ConvIn(run.Inputs.Sample));
}

/// <summary>h = resnet(h, temb).</summary>
internal sealed class ResnetStep(ResnetBlock2D? resnet) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped)
    {
        if (!skipped && resnet is not null) run.SetHidden(resnet.ForwardActivated(run.Hidden!, run.TembAct!));
    }
}

/// <summary>h = resnet(cat(h, skip), temb), the skip popped; skipped, the skip is dropped.</summary>
internal sealed class UpResnetStep(ResnetBlock2D? resnet) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped)
    {
        var skip = run.PopSkip(Id);
        if (!skipped && resnet is not null) run.SetHidden(resnet.ForwardWithSkip(run.Hidden!, skip, run.TembAct!));
        run.Release(skip);                                                       // consumed, or dropped when skipped
    }
}

/// <summary>h = transformer(h, context), a whole Transformer2D.</summary>
internal sealed class TransformerStep(Transformer2DModel? transformer) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped)
    {
        if (!skipped && transformer is not null) run.SetHidden(transformer.forward(run.Hidden!, run.Inputs.EncoderHiddenStates));
    }
}

/// <summary>residual = h; h = proj_in(norm(h)) as tokens [B,HW,C].</summary>
internal sealed class TransformerEnterStep(Transformer2DModel shell) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped)
    {
        var x = run.Hidden!;
        run.Residual = x;
        run.SetHidden(shell.Enter(x));                                          // [B,HW,C] tokens
    }
}

/// <summary>One BasicTransformerBlock on the tokens.</summary>
internal sealed class TransformerBlockStep(BasicTransformerBlock? block) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped)
    {
        if (!skipped && block is not null) run.SetHidden(block.forward(run.Hidden!, run.Inputs.EncoderHiddenStates));
    }
}

/// <summary>h = residual + proj_out(tokens), back in [B,C,H,W].</summary>
internal sealed class TransformerExitStep(Transformer2DModel shell) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped)
    {
        var residual = run.Residual ?? throw new InvalidOperationException($"{Id}: no transformer residual");
        run.Residual = null;
        run.SetHidden(shell.Exit(run.Hidden!, residual));                      // [B,C,H,W]
        run.Release(residual);
    }
}

internal sealed class DownsampleStep(Downsample2D downsampler) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped) => run.SetHidden(downsampler.forward(run.Hidden!));
}

/// <summary>Upsamples to the next skip's size (diffusers: it differs from 2x for odd sizes).</summary>
internal sealed class UpsampleStep(Upsample2D upsampler) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped)
    {
        (long, long)? size = run.Skips.Count > 0 ? (run.Skips[^1].shape[2], run.Skips[^1].shape[3]) : null;
        run.SetHidden(upsampler.forward(run.Hidden!, size));
    }
}

/// <summary>eps = conv_out(silu(conv_norm_out(h))).</summary>
internal sealed class OutputHeadStep(UNet2DCondition model) : PlanStep
{
    internal override void Run(PlanRun run, bool skipped) => run.SetHidden(model.Head(run.Hidden!));
}
