using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// The U-Net forward as an ordered list of typed steps, one per step of the layout (DESIGN decision 2). The same
/// plan runs the full model, any mask of skipped units (no reallocation), a resume from a captured
/// <see cref="PlanState"/> (prefix caching for the pruning sweep) and the stage-end feature taps used by
/// distillation. Numbered phases as in diffusers' forward: 1. time, 2. conv_in, 3. down, 4. mid,
/// 5. up, 6. output head.
/// Autograd follows the caller: wrap calls in <c>torch.no_grad()</c> or <c>torch.inference_mode()</c>
/// for inference (activations then run in place).
/// </summary>
public sealed class ExecutionPlan
{
    private readonly UNet2DCondition _model;
    private readonly Dictionary<string, int> _stepOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _unitOf = new(StringComparer.Ordinal);

    internal ExecutionPlan(UNet2DCondition model, IReadOnlyList<LayoutComponent> units, IReadOnlyList<PlanStep> steps)
    {
        _model = model;
        Units = units;
        for (int u = 0; u < Units.Count; u++) _unitOf[Units[u].Id] = u;
        Steps = steps;
        for (int i = 0; i < Steps.Count; i++) _stepOf.TryAdd(Steps[i].Id, i);
        None = new UnitMask(Units, new bool[Units.Count]);
    }

    public UNetLayout Layout => _model.Layout;

    public IReadOnlyList<PlanStep> Steps { get; }

    /// <summary>The pruning units (removed ones included) in execution order; a mask has one bool per unit.</summary>
    public IReadOnlyList<LayoutComponent> Units { get; }

    /// <summary>The mask that skips nothing.</summary>
    public UnitMask None { get; }

    /// <summary>A mask skipping the given unit ids.</summary>
    public UnitMask Mask(params string[] unitIds) => None.With(unitIds);

    /// <summary>A mask from one bool per unit (true = skipped).</summary>
    public UnitMask Mask(IReadOnlyList<bool> skip) => new(Units, skip.ToArray());

    /// <summary>Index of the first step of a component (for a block-granular transformer: its TransformerEnter).</summary>
    public int StepOf(string componentId) =>
        _stepOf.TryGetValue(componentId, out var i) ? i : throw new ArgumentException($"'{componentId}' is not a component of this model", nameof(componentId));

    /// <summary>Index of the step that runs unit <paramref name="unitIndex"/>.</summary>
    public int StepOfUnit(int unitIndex) => StepOf(Units[unitIndex].Id);

    public int UnitIndexOf(string unitId) =>
        _unitOf.TryGetValue(unitId, out var u) ? u : throw new ArgumentException($"'{unitId}' is not a unit of this model", nameof(unitId));

    /// <summary>diffusers' name of a stage feature: <c>down.1</c> -> <c>down_blocks.1</c>, <c>mid</c> -> <c>mid_block</c>.</summary>
    public static string DiffusersStageName(string stage)
    {
        var id = StageId.Parse(stage);
        return id.IsBlock ? id.DiffusersName : throw new ArgumentException($"'{stage}' is not a feature stage", nameof(stage));
    }

    // ---------------------------------------------------------------- running

    /// <summary>The whole forward.</summary>
    public UNetOutput Run(UNetInputs inputs, UnitMask? mask = null, bool features = false)
    {
        using var scope = NewDisposeScope();
        var run = PlanRun.FromInputs(inputs);
        Execute(run, 0, Steps.Count, Check(mask), features, null, null);
        return run.Finish(features);
    }

    /// <summary>
    /// The forward from a captured state to the end; <paramref name="state"/> is left unchanged. Masked
    /// units before <see cref="PlanState.StepIndex"/> are already baked into the state.
    /// </summary>
    public UNetOutput RunFrom(PlanState state, UnitMask? mask = null, bool features = false)
    {
        state.ThrowIfDisposed();
        using var scope = NewDisposeScope();
        var run = PlanRun.FromState(state);
        Execute(run, state.StepIndex, Steps.Count, Check(mask), features, null, null);
        return run.Finish(features);
    }

    /// <summary>Same as <see cref="RunFrom(PlanState, UnitMask?, bool)"/>, checking the state is at <paramref name="stepIndex"/>.</summary>
    public UNetOutput RunFrom(PlanState state, int stepIndex, UnitMask? mask = null, bool features = false)
    {
        if (state.StepIndex != stepIndex)
            throw new ArgumentException($"the state was captured before step {state.StepIndex}, not {stepIndex}", nameof(stepIndex));
        return RunFrom(state, mask, features);
    }

    /// <summary>Runs steps [0, <paramref name="stepIndex"/>) and returns the state before that step.</summary>
    public PlanState Capture(UNetInputs inputs, int stepIndex, UnitMask? mask = null, bool features = false)
    {
        CheckStep(stepIndex);
        using var scope = NewDisposeScope();
        var run = PlanRun.FromInputs(inputs);
        Execute(run, 0, stepIndex, Check(mask), features, null, null);
        return run.Snapshot(stepIndex);
    }

    /// <summary>Runs a state forward to <paramref name="stepIndex"/> and returns the new state (the old one is unchanged).</summary>
    public PlanState Advance(PlanState state, int stepIndex, UnitMask? mask = null, bool features = false)
    {
        state.ThrowIfDisposed();
        CheckStep(stepIndex);
        if (stepIndex < state.StepIndex)
            throw new ArgumentException($"cannot go back from step {state.StepIndex} to {stepIndex}", nameof(stepIndex));
        using var scope = NewDisposeScope();
        var run = PlanRun.FromState(state);
        Execute(run, state.StepIndex, stepIndex, Check(mask), features, null, null);
        return run.Snapshot(stepIndex);
    }

    /// <summary>
    /// One forward that also hands out the state before each step in <paramref name="captureBefore"/>
    /// (the pruning sweep: run the teacher once, capture before every unit, then
    /// <see cref="RunFrom(PlanState, UnitMask?, bool)"/> with that unit masked). The callback owns each state.
    /// </summary>
    public UNetOutput RunCapturing(UNetInputs inputs, IEnumerable<int> captureBefore, Action<PlanState> onCapture,
        UnitMask? mask = null, bool features = false)
    {
        var at = new HashSet<int>(captureBefore);
        foreach (var i in at) CheckStep(i);
        using var scope = NewDisposeScope();
        var run = PlanRun.FromInputs(inputs);
        Execute(run, 0, Steps.Count, Check(mask), features, at, onCapture);
        return run.Finish(features);
    }

    private void Execute(PlanRun run, int from, int to, UnitMask? mask, bool features, HashSet<int>? captureAt, Action<PlanState>? onCapture)
    {
        for (int i = from; i < to; i++)
        {
            if (captureAt != null && captureAt.Contains(i)) onCapture!(run.Snapshot(i));
            var step = Steps[i];
            step.Run(run, skipped: step.Removed || (step.UnitIndex >= 0 && mask != null && mask[step.UnitIndex]));
            if (step.PushesSkip) run.Skips.Add(run.Hidden!);
            if (features && step.EndsStage != null) run.Features[step.EndsStage] = run.Hidden!;
        }
        if (captureAt != null && captureAt.Contains(to)) onCapture!(run.Snapshot(to));
    }

    private UnitMask? Check(UnitMask? mask)
    {
        if (mask == null || ReferenceEquals(mask.Units, Units)) return mask;
        if (mask.Count != Units.Count || !mask.Units.Select(u => u.Id).SequenceEqual(Units.Select(u => u.Id)))
            throw new ArgumentException($"the mask was made for another model ({mask.Count} units, this model has {Units.Count})", nameof(mask));
        return mask;
    }

    private void CheckStep(int stepIndex)
    {
        if (stepIndex < 0 || stepIndex > Steps.Count)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), $"step {stepIndex} is outside 0..{Steps.Count}");
    }
}
