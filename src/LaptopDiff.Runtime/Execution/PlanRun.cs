using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// The mutable state of one run of the plan. Tensors the run creates are freed as soon as nothing refers to them
/// (hidden, residual, skip stack, features); tensors it was given (inputs, a captured state's) are never freed.
/// </summary>
internal sealed class PlanRun
{
    private readonly HashSet<Tensor> _borrowed = new(ReferenceEqualityComparer.Instance);

    private PlanRun(UNetInputs inputs) => Inputs = inputs;

    public UNetInputs Inputs { get; }
    public Tensor? Hidden { get; private set; }
    public Tensor? Residual { get; set; }
    public List<Tensor> Skips { get; } = new();
    public Tensor? Temb { get; private set; }
    public Tensor? TembAct { get; private set; }
    public Dictionary<string, Tensor> Features { get; } = new(StringComparer.Ordinal);

    public static PlanRun FromInputs(UNetInputs inputs) => new(inputs);

    public static PlanRun FromState(PlanState state)
    {
        var run = new PlanRun(state.Inputs)
        {
            Hidden = state.Hidden,
            Residual = state.Residual,
        };
        run.Skips.AddRange(state.Skips);
        foreach (var (k, v) in state.Features) run.Features[k] = v;
        foreach (var t in state.AllTensors()) run._borrowed.Add(t);
        if (state.Temb is not null) run.SetTemb(state.Temb);
        return run;
    }

    public void SetTemb(Tensor temb)
    {
        var old = Temb;
        Temb = temb;
        TembAct?.Dispose();
        TembAct = nn.functional.silu(temb);                                       // [B,T], shared by every ResNet
        if (old is not null) Release(old);
    }

    public void SetHidden(Tensor next)
    {
        var old = Hidden;
        Hidden = next;
        if (old is not null) Release(old);
    }

    /// <summary>Takes the top skip off the stack (the caller releases it).</summary>
    public Tensor PopSkip(string stepId)
    {
        if (Skips.Count == 0) throw new InvalidOperationException($"{stepId}: the skip stack is empty");
        var skip = Skips[^1];
        Skips.RemoveAt(Skips.Count - 1);
        return skip;
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
