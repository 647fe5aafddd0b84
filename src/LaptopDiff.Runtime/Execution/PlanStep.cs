using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// One step of the execution plan: one <see cref="LayoutStep"/> of the layout with the typed module it runs.
/// Steps exist for every component of the base layout, removed units included (they are always skipped and
/// have no module), so step indices are the same for a teacher and its students.
/// </summary>
public abstract class PlanStep
{
    private protected PlanStep() { }

    public int Index { get; internal set; }
    public StepKind Kind => LayoutStep.Kind;
    /// <summary>The layout's step this one runs.</summary>
    public LayoutStep LayoutStep { get; internal set; } = null!;
    /// <summary>The layout component run by this step (the shell for TransformerEnter/Exit).</summary>
    public LayoutComponent Component { get; internal set; } = null!;
    public string Id => Component.Id;
    public StageId Stage => Component.Stage;
    /// <summary>Index into <see cref="ExecutionPlan.Units"/> when the step is a pruning unit, else -1.</summary>
    public int UnitIndex { get; internal set; } = -1;
    /// <summary>The unit is removed from this model (no weights): the step is always skipped.</summary>
    public bool Removed { get; internal set; }
    /// <summary>After this step, h is pushed on the skip stack (conv_in, each down layer, each downsampler).</summary>
    public bool PushesSkip => LayoutStep.PushesSkip;
    /// <summary>The stage label whose feature is h after this step (the last step of a down/mid/up stage), or null.</summary>
    public string? EndsStage => LayoutStep.EndsStage ? Stage.Label : null;

    /// <summary>Applies the step to <paramref name="run"/>; a <paramref name="skipped"/> unit is identity (an up ResNet still drops its skip).</summary>
    internal abstract void Run(PlanRun run, bool skipped);

    public override string ToString() =>
        $"{Index}: {Kind} {Id}{(UnitIndex >= 0 ? $" (unit {UnitIndex})" : "")}{(Removed ? " removed" : "")}{(PushesSkip ? " push" : "")}{(EndsStage != null ? $" ends {EndsStage}" : "")}";
}
