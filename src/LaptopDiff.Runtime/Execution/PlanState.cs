using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// Everything a forward carries between steps, as it is just before step <see cref="StepIndex"/>:
/// the hidden state, the skip stack, the time embedding, the inputs (for the encoder states), the
/// transformer residual while inside a Transformer2D, and the stage features collected so far.
/// A state owns its own tensor handles (aliases sharing storage with the run that captured it), so
/// it outlives that run and can seed any number of <see cref="ExecutionPlan.RunFrom"/> calls, which
/// never modify it. Dispose it when done.
/// </summary>
public sealed class PlanState : IDisposable
{
    private bool _disposed;

    internal PlanState(int stepIndex, UNetInputs inputs, Tensor? hidden, Tensor? residual, IReadOnlyList<Tensor> skips,
        Tensor? temb, IReadOnlyDictionary<string, Tensor> features)
    {
        StepIndex = stepIndex;
        Inputs = inputs;
        Hidden = hidden;
        Residual = residual;
        Skips = skips;
        Temb = temb;
        Features = features;
    }

    /// <summary>The step this state comes before (0 = nothing run yet).</summary>
    public int StepIndex { get; }
    public UNetInputs Inputs { get; }
    /// <summary>[B,C,H,W]; tokens [B,HW,C] between a TransformerEnter and its TransformerExit; null before conv_in.</summary>
    public Tensor? Hidden { get; }
    /// <summary>The input of the Transformer2D being run (block granularity), else null.</summary>
    public Tensor? Residual { get; }
    /// <summary>The skip stack, bottom (conv_in output) first.</summary>
    public IReadOnlyList<Tensor> Skips { get; }
    /// <summary>Time embedding [B,T] (addition embedding included once its step ran); null before step 0.</summary>
    public Tensor? Temb { get; }
    /// <summary>Stage-end features of the stages completed so far (only when captured with features).</summary>
    public IReadOnlyDictionary<string, Tensor> Features { get; }

    public long BatchSize => Inputs.Sample.shape[0];

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in AllTensors()) t.Dispose();
    }

    internal IEnumerable<Tensor> AllTensors()
    {
        yield return Inputs.Sample;
        yield return Inputs.Timestep;
        yield return Inputs.EncoderHiddenStates;
        if (Inputs.TextEmbeds is { } te) yield return te;
        if (Inputs.TimeIds is { } ti) yield return ti;
        if (Hidden is { } h) yield return h;
        if (Residual is { } r) yield return r;
        foreach (var s in Skips) yield return s;
        if (Temb is { } t) yield return t;
        foreach (var f in Features.Values) yield return f;
    }

    internal void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(PlanState), "this plan state was disposed");
    }
}
