using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// The U-Net forward as an ordered list of steps built from the layout (DESIGN decision 2). The same
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

    internal ExecutionPlan(UNet2DCondition model)
    {
        _model = model;
        var layout = model.Layout;
        Units = layout.Components.Where(c => c.IsUnit).ToList();
        for (int u = 0; u < Units.Count; u++) _unitOf[Units[u].Id] = u;
        Steps = BuildSteps(layout);
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
    public static string DiffusersStageName(string stage) =>
        stage == "mid" ? "mid_block"
        : stage.StartsWith("down.", StringComparison.Ordinal) ? "down_blocks." + stage.Substring(5)
        : stage.StartsWith("up.", StringComparison.Ordinal) ? "up_blocks." + stage.Substring(3)
        : throw new ArgumentException($"'{stage}' is not a feature stage", nameof(stage));

    // ---------------------------------------------------------------- running

    /// <summary>The whole forward.</summary>
    public UNetOutput Run(UNetInputs inputs, UnitMask? mask = null, bool features = false)
    {
        using var scope = NewDisposeScope();
        var work = Work.FromInputs(inputs);
        Execute(work, 0, Steps.Count, Check(mask), features, null, null);
        return work.Finish(features);
    }

    /// <summary>
    /// The forward from a captured state to the end; <paramref name="state"/> is left unchanged. Masked
    /// units before <see cref="PlanState.StepIndex"/> are already baked into the state.
    /// </summary>
    public UNetOutput RunFrom(PlanState state, UnitMask? mask = null, bool features = false)
    {
        state.ThrowIfDisposed();
        using var scope = NewDisposeScope();
        var work = Work.FromState(state);
        Execute(work, state.StepIndex, Steps.Count, Check(mask), features, null, null);
        return work.Finish(features);
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
        var work = Work.FromInputs(inputs);
        Execute(work, 0, stepIndex, Check(mask), features, null, null);
        return work.Snapshot(stepIndex);
    }

    /// <summary>Runs a state forward to <paramref name="stepIndex"/> and returns the new state (the old one is unchanged).</summary>
    public PlanState Advance(PlanState state, int stepIndex, UnitMask? mask = null, bool features = false)
    {
        state.ThrowIfDisposed();
        CheckStep(stepIndex);
        if (stepIndex < state.StepIndex)
            throw new ArgumentException($"cannot go back from step {state.StepIndex} to {stepIndex}", nameof(stepIndex));
        using var scope = NewDisposeScope();
        var work = Work.FromState(state);
        Execute(work, state.StepIndex, stepIndex, Check(mask), features, null, null);
        return work.Snapshot(stepIndex);
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
        var work = Work.FromInputs(inputs);
        Execute(work, 0, Steps.Count, Check(mask), features, at, onCapture);
        return work.Finish(features);
    }

    private void Execute(Work w, int from, int to, UnitMask? mask, bool features, HashSet<int>? captureAt, Action<PlanState>? onCapture)
    {
        for (int i = from; i < to; i++)
        {
            if (captureAt != null && captureAt.Contains(i)) onCapture!(w.Snapshot(i));
            var step = Steps[i];
            bool skipped = step.Removed || (step.UnitIndex >= 0 && mask != null && mask[step.UnitIndex]);
            RunStep(w, step, skipped);
            if (step.PushesSkip) w.Skips.Add(w.Hidden!);
            if (features && step.EndsStage != null) w.Features[step.EndsStage] = w.Hidden!;
        }
        if (captureAt != null && captureAt.Contains(to)) onCapture!(w.Snapshot(to));
    }

    private void RunStep(Work w, PlanStep step, bool skipped)
    {
        var ctx = w.Inputs.EncoderHiddenStates;
        switch (step.Kind)
        {
            // 1. time
            case StepKind.TimeEmbedding:
                w.SetTemb(_model.EmbedTime(w.Inputs.Timestep, w.Inputs.Sample.shape[0]));
                break;
            case StepKind.AdditionEmbedding:
            {
                var text = w.Inputs.TextEmbeds ?? throw new ArgumentException("this model has a text_time addition embedding: UNetInputs.TextEmbeds is required");
                var ids = w.Inputs.TimeIds ?? throw new ArgumentException("this model has a text_time addition embedding: UNetInputs.TimeIds is required");
                using var aug = _model.EmbedAddition(text, ids);
                w.SetTemb(w.Temb!.add(aug));
                break;
            }
            // 2. pre-process
            case StepKind.ConvIn:
                w.SetHidden(_model.ConvIn(w.Inputs.Sample));
                break;
            // 3-5. blocks
            case StepKind.Resnet:
                if (!skipped) w.SetHidden(((ResnetBlock2D)step.Module!).ForwardActivated(w.Hidden!, w.TembAct!));
                break;
            case StepKind.UpResnet:
            {
                if (w.Skips.Count == 0) throw new InvalidOperationException($"{step.Id}: the skip stack is empty");
                var skip = w.Skips[^1];
                w.Skips.RemoveAt(w.Skips.Count - 1);
                if (!skipped) w.SetHidden(((ResnetBlock2D)step.Module!).ForwardWithSkip(w.Hidden!, skip, w.TembAct!));
                w.Release(skip);                                                  // consumed, or dropped when skipped
                break;
            }
            case StepKind.Transformer:
                if (!skipped) w.SetHidden(((Transformer2DModel)step.Module!).forward(w.Hidden!, ctx));
                break;
            case StepKind.TransformerEnter:
            {
                var x = w.Hidden!;
                w.Residual = x;
                w.SetHidden(((Transformer2DModel)step.Module!).Enter(x));       // [B,HW,C] tokens
                break;
            }
            case StepKind.TransformerBlock:
                if (!skipped) w.SetHidden(((Transformer2DModel)step.Module!).Block(step.Component.BlockIndex, w.Hidden!, ctx));
                break;
            case StepKind.TransformerExit:
            {
                var residual = w.Residual ?? throw new InvalidOperationException($"{step.Id}: no transformer residual");
                w.Residual = null;
                w.SetHidden(((Transformer2DModel)step.Module!).Exit(w.Hidden!, residual));   // [B,C,H,W]
                w.Release(residual);
                break;
            }
            case StepKind.Downsample:
                w.SetHidden(((Downsample2D)step.Module!).forward(w.Hidden!));
                break;
            case StepKind.Upsample:
            {
                // diffusers upsamples to the next skip's size (it differs from 2x for odd sizes)
                (long, long)? size = w.Skips.Count > 0 ? (w.Skips[^1].shape[2], w.Skips[^1].shape[3]) : null;
                w.SetHidden(((Upsample2D)step.Module!).forward(w.Hidden!, size));
                break;
            }
            // 6. post-process
            case StepKind.OutputHead:
                w.SetHidden(_model.Head(w.Hidden!));
                break;
            default:
                throw new InvalidOperationException($"unknown step kind {step.Kind}");
        }
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

    // ---------------------------------------------------------------- building

    private List<PlanStep> BuildSteps(UNetLayout layout)
    {
        var removed = new HashSet<string>(layout.Removed, StringComparer.Ordinal);
        var steps = new List<PlanStep>();
        LayoutComponent? openShell = null;     // block granularity: the transformer whose blocks are being listed
        int blocksLeft = 0;

        void Add(StepKind kind, LayoutComponent c, nn.Module? module)
        {
            int unit = c.IsUnit && kind != StepKind.TransformerEnter && kind != StepKind.TransformerExit ? _unitOf[c.Id] : -1;
            bool isRemoved = unit >= 0 && removed.Contains(c.Id);
            steps.Add(new PlanStep(steps.Count, kind, c, unit, isRemoved, module));
        }

        void CloseShell()
        {
            if (openShell != null && blocksLeft == 0)
            {
                Add(StepKind.TransformerExit, openShell, _model.GetComponent(openShell.Id));
                openShell = null;
            }
        }

        foreach (var c in layout.Components)
        {
            if (openShell != null && c.Kind != ComponentKind.TransformerBlock)
                throw new InvalidOperationException($"{openShell.Id}: expected {blocksLeft} more transformer blocks before {c.Id}");
            switch (c.Kind)
            {
                case ComponentKind.TimeEmbedding: Add(StepKind.TimeEmbedding, c, null); break;
                case ComponentKind.AdditionEmbedding: Add(StepKind.AdditionEmbedding, c, null); break;
                case ComponentKind.ConvIn: Add(StepKind.ConvIn, c, null); break;
                case ComponentKind.Resnet:
                    Add(c.Stage.StartsWith("up.", StringComparison.Ordinal) ? StepKind.UpResnet : StepKind.Resnet, c, _model.GetComponent(c.Id));
                    break;
                case ComponentKind.Transformer when c.IsUnit:
                    Add(StepKind.Transformer, c, _model.GetComponent(c.Id));
                    break;
                case ComponentKind.Transformer:
                    Add(StepKind.TransformerEnter, c, _model.GetComponent(c.Id));
                    openShell = c;
                    blocksLeft = c.Depth;
                    CloseShell();
                    break;
                case ComponentKind.TransformerBlock:
                    if (openShell == null || !c.Id.StartsWith(openShell.Id + ".transformer_blocks.", StringComparison.Ordinal))
                        throw new InvalidOperationException($"{c.Id}: a transformer block outside its transformer");
                    Add(StepKind.TransformerBlock, c, _model.GetComponent(openShell.Id));
                    blocksLeft--;
                    CloseShell();
                    break;
                case ComponentKind.Downsampler: Add(StepKind.Downsample, c, _model.GetComponent(c.Id)); break;
                case ComponentKind.Upsampler: Add(StepKind.Upsample, c, _model.GetComponent(c.Id)); break;
                case ComponentKind.OutputHead: Add(StepKind.OutputHead, c, null); break;
                default: throw new InvalidOperationException($"unknown component kind {c.Kind} ({c.Id})");
            }
        }

        // Skip pushes: conv_in, the end of each down layer (ResNet + its transformer), each downsampler.
        for (int i = 0; i < steps.Count; i++)
        {
            var s = steps[i];
            if (s.Kind is StepKind.ConvIn or StepKind.Downsample) s.PushesSkip = true;
            else if (s.Stage.StartsWith("down.", StringComparison.Ordinal) && s.Component.Layer >= 0)
            {
                var next = i + 1 < steps.Count ? steps[i + 1] : null;
                s.PushesSkip = next == null || next.Stage != s.Stage || next.Component.Layer != s.Component.Layer;
            }
        }
        int pushes = steps.Count(s => s.PushesSkip), pops = steps.Count(s => s.Kind == StepKind.UpResnet);
        if (pushes != pops)
            throw new InvalidOperationException($"the plan pushes {pushes} skips but the up stages consume {pops}");

        foreach (var stage in layout.FeatureStages)
        {
            var last = steps.LastOrDefault(s => s.Stage == stage)
                ?? throw new InvalidOperationException($"stage {stage} has no steps");
            last.EndsStage = stage;
        }
        return steps;
    }

    // ---------------------------------------------------------------- running state

    /// <summary>
    /// The mutable state of one run. Tensors the run creates are freed as soon as nothing refers to them
    /// (hidden, residual, skip stack, features); tensors it was given (inputs, a captured state's) are never freed.
    /// </summary>
    private sealed class Work
    {
        private readonly HashSet<Tensor> _borrowed = new(ReferenceEqualityComparer.Instance);

        private Work(UNetInputs inputs) => Inputs = inputs;

        public UNetInputs Inputs { get; }
        public Tensor? Hidden { get; private set; }
        public Tensor? Residual { get; set; }
        public List<Tensor> Skips { get; } = new();
        public Tensor? Temb { get; private set; }
        public Tensor? TembAct { get; private set; }
        public Dictionary<string, Tensor> Features { get; } = new(StringComparer.Ordinal);

        public static Work FromInputs(UNetInputs inputs) => new(inputs);

        public static Work FromState(PlanState state)
        {
            var w = new Work(state.Inputs)
            {
                Hidden = state.Hidden,
                Residual = state.Residual,
            };
            w.Skips.AddRange(state.Skips);
            foreach (var (k, v) in state.Features) w.Features[k] = v;
            foreach (var t in state.AllTensors()) w._borrowed.Add(t);
            if (state.Temb is not null) w.SetTemb(state.Temb);
            return w;
        }

        public void SetTemb(Tensor temb)
        {
            var old = Temb;
            Temb = temb;
            TembAct?.Dispose();
            TembAct = nn.functional.silu(temb);                                   // [B,T], shared by every ResNet
            if (old is not null) Release(old);
        }

        public void SetHidden(Tensor next)
        {
            var old = Hidden;
            Hidden = next;
            if (old is not null) Release(old);
        }

        /// <summary>Frees a tensor of this run that nothing refers to any more.</summary>
        public void Release(Tensor t)
        {
            if (_borrowed.Contains(t) || ReferenceEquals(t, Hidden) || ReferenceEquals(t, Residual) || ReferenceEquals(t, Temb)) return;
            foreach (var s in Skips) if (ReferenceEquals(s, t)) return;
            foreach (var f in Features.Values) if (ReferenceEquals(f, t)) return;
            t.Dispose();
        }

        /// <summary>A state owning aliases of the current tensors (detached from every dispose scope).</summary>
        public PlanState Snapshot(int stepIndex)
        {
            var inputs = new UNetInputs(Own(Inputs.Sample), Own(Inputs.Timestep), Own(Inputs.EncoderHiddenStates),
                Inputs.TextEmbeds is { } te ? Own(te) : null, Inputs.TimeIds is { } ti ? Own(ti) : null);
            return new PlanState(stepIndex, inputs,
                Hidden is { } h ? Own(h) : null,
                Residual is { } r ? Own(r) : null,
                Skips.Select(Own).ToList(),
                Temb is { } t ? Own(t) : null,
                Features.ToDictionary(kv => kv.Key, kv => Own(kv.Value), StringComparer.Ordinal));
        }

        /// <summary>The output: eps and the features, moved to the caller's dispose scope.</summary>
        public UNetOutput Finish(bool features)
        {
            var sample = Hidden ?? throw new InvalidOperationException("the plan produced no output");
            if (_borrowed.Contains(sample)) sample = sample.alias();
            Dictionary<string, Tensor>? map = null;
            if (features)
                map = Features.ToDictionary(kv => kv.Key, kv => kv.Value.alias().MoveToOuterDisposeScope(), StringComparer.Ordinal);
            return new UNetOutput(sample.MoveToOuterDisposeScope(), map);
        }

        private static Tensor Own(Tensor t) => t.alias().DetachFromDisposeScope();
    }
}
