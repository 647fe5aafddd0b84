using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// Maps the layout's steps one to one onto typed plan steps holding the model's modules: the structure, the skip
/// pushes and pops and the stage ends all come from <see cref="UNetLayout.Steps"/>.
/// </summary>
internal static class PlanBuilder
{
    public static ExecutionPlan Build(UNet2DCondition model)
    {
        var layout = model.Layout;
        var units = layout.Components.Where(c => c.IsUnit).ToList();
        var unitOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int u = 0; u < units.Count; u++) unitOf[units[u].Id] = u;
        var removed = new HashSet<string>(layout.Removed, StringComparer.Ordinal);

        var steps = new List<PlanStep>();
        foreach (var s in layout.Steps)
        {
            var c = layout.Components[s.Component];
            bool isRemoved = removed.Contains(c.Id);
            var step = Create(model, s.Kind, c, isRemoved);
            step.Index = steps.Count;
            step.LayoutStep = s;
            step.Component = c;
            step.UnitIndex = c.IsUnit ? unitOf[c.Id] : -1;
            step.Removed = isRemoved;
            steps.Add(step);
        }
        return new ExecutionPlan(model, units, steps);
    }

    /// <summary>The typed step of one layout step; a removed unit's step gets no module.</summary>
    private static PlanStep Create(UNet2DCondition model, StepKind kind, LayoutComponent c, bool removed)
    {
        UNetStage Stage() => model.Stage(c.Stage);
        Transformer2DModel Attention() => Stage().Attentions[c.Layer];
        return kind switch
        {
            StepKind.TimeEmbedding => new TimeEmbeddingStep(model),
            StepKind.AdditionEmbedding => new AdditionEmbeddingStep(model),
            StepKind.ConvIn => new ConvInStep(model),
            StepKind.Resnet => new ResnetStep(removed ? null : Stage().Resnets[c.Layer]),
            StepKind.UpResnet => new UpResnetStep(removed ? null : Stage().Resnets[c.Layer]),
            StepKind.Transformer => new TransformerStep(removed ? null : Attention()),
            StepKind.TransformerEnter => new TransformerEnterStep(Attention()),
            StepKind.TransformerBlock => new TransformerBlockStep(removed ? null : Attention().TransformerBlocks[c.BlockIndex]),
            StepKind.TransformerExit => new TransformerExitStep(Attention()),
            StepKind.Downsample => new DownsampleStep(Stage().Downsamplers[0]),
            StepKind.Upsample => new UpsampleStep(Stage().Upsamplers[0]),
            StepKind.OutputHead => new OutputHeadStep(model),
            _ => throw new InvalidOperationException($"unknown step kind {kind} ({c.Id})"),
        };
    }
}
