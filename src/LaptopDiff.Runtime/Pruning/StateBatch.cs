using LaptopDiff.Runtime.Execution;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>Joins plan states captured at the same step into one state of the summed batch.</summary>
internal static class StateBatch
{
    /// <summary>
    /// Every tensor of the states concatenated along dim 0 (hidden [B,...], skips, residual, temb, inputs),
    /// in the order given. The states must be at one step with equal shapes (true for single-unit ablations of
    /// one model: a prunable unit keeps shapes). The result owns new tensors; the inputs are unchanged.
    /// </summary>
    public static PlanState Concat(IReadOnlyList<PlanState> states)
    {
        var first = states[0];
        if (states.Any(s => s.StepIndex != first.StepIndex))
            throw new ArgumentException("states at different steps cannot be batched", nameof(states));
        if (states.Any(s => s.Features.Count > 0))
            throw new ArgumentException("states with stage features are not batched", nameof(states));

        Tensor Cat(Func<PlanState, Tensor> pick) => cat(states.Select(pick).ToArray(), 0).DetachFromDisposeScope();
        Tensor? CatOpt(Func<PlanState, Tensor?> pick) => pick(first) is null ? null : Cat(s => pick(s)!);

        var inputs = new UNetInputs(Cat(s => s.Inputs.Sample), Cat(s => BatchTimestep(s)), Cat(s => s.Inputs.EncoderHiddenStates),
            CatOpt(s => s.Inputs.TextEmbeds), CatOpt(s => s.Inputs.TimeIds));
        var skips = Enumerable.Range(0, first.Skips.Count).Select(k => Cat(s => s.Skips[k])).ToList();
        return new PlanState(first.StepIndex, inputs, CatOpt(s => s.Hidden), CatOpt(s => s.Residual), skips, CatOpt(s => s.Temb),
            new Dictionary<string, Tensor>(StringComparer.Ordinal));
    }

    /// <summary>The timestep as [B] (a scalar or [1] is broadcast, as the plan does).</summary>
    private static Tensor BatchTimestep(PlanState s)
    {
        var t = s.Inputs.Timestep;
        return t.dim() == 1 && t.shape[0] == s.BatchSize ? t : t.reshape(-1).expand(s.BatchSize);
    }
}
