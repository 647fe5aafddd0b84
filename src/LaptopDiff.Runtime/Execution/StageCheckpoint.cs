using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// Activation checkpointing of one down, mid or up stage (plan steps [from, to)). The stage runs once without
/// autograd; the graph keeps only its inputs (hidden state, time activation, encoder states, the skips it pops) and
/// its outputs (hidden state, the skips it pushes). The backward runs the stage again with autograd on from those
/// inputs and back-propagates the output gradients through it: parameter gradients accumulate as in a plain
/// backward, input gradients flow on to the earlier stages. TorchSharp has no <c>torch.utils.checkpoint</c>; this is
/// its re-entrant form on a custom autograd function (<see cref="StageFunction"/>). The U-Net has no dropout, so the
/// second run computes the same function.
/// </summary>
internal sealed class StageCheckpoint
{
    private const int FixedInputs = 3;   // hidden, time activation, encoder states; then the popped skips

    private readonly ExecutionPlan _plan;
    private readonly int _from, _to;
    private readonly UnitMask? _mask;
    private readonly UNetInputs _inputs;
    private readonly (long, long)? _outerSkipSize;
    private bool[] _needsGrad = [];
    private (long[] Shape, ScalarType Type, Device Device)[] _inputMeta = [];
    // per stage output (hidden, then each pushed skip): an input it passes through (>= 0), else -1 - its slot among the function's outputs
    private int[] _sources = [];

    private StageCheckpoint(ExecutionPlan plan, int from, int to, UnitMask? mask, UNetInputs inputs, (long, long)? outerSkipSize)
    {
        _plan = plan;
        _from = from;
        _to = to;
        _mask = mask;
        _inputs = inputs;
        _outerSkipSize = outerSkipSize;
    }

    /// <summary>Runs steps [<paramref name="from"/>, <paramref name="to"/>) of one stage on <paramref name="run"/> with checkpointing.</summary>
    public static void Run(ExecutionPlan plan, PlanRun run, int from, int to, UnitMask? mask)
    {
        int pops = 0;
        bool computes = false;
        for (int i = from; i < to; i++)
        {
            var step = plan.Steps[i];
            if (step.Kind == StepKind.UpResnet) pops++;
            computes |= step.UnitIndex < 0 || !ExecutionPlan.IsSkipped(step, mask);
        }
        if (!computes)
        {
            // every unit of the stage is skipped: it only moves tensors, nothing to save
            for (int i = from; i < to; i++) plan.RunStep(run, i, mask, features: false);
            return;
        }

        var popped = run.Skips.GetRange(run.Skips.Count - pops, pops);
        (long, long)? outer = run.Skips.Count > pops ? (run.Skips[^(pops + 1)].shape[2], run.Skips[^(pops + 1)].shape[3]) : null;
        var checkpoint = new StageCheckpoint(plan, from, to, mask, run.Inputs, outer);
        var inputs = new List<Tensor> { run.Hidden!, run.TembAct!, run.Inputs.EncoderHiddenStates };
        inputs.AddRange(popped);
        checkpoint._needsGrad = inputs.Select(t => t.requires_grad).ToArray();
        checkpoint._inputMeta = inputs.Select(t => (t.shape, t.dtype, t.device)).ToArray();
        var outputs = StageFunction.apply([.. inputs, checkpoint]);

        Tensor Output(int source) => source >= 0 ? inputs[source] : outputs[-1 - source];
        run.Skips.RemoveRange(run.Skips.Count - pops, pops);
        foreach (var source in checkpoint._sources.Skip(1)) run.Skips.Add(Output(source));
        run.SetHidden(Output(checkpoint._sources[0]));
        foreach (var skip in popped) run.Release(skip);
    }

    /// <summary>The stage on <paramref name="inputs"/>; returns its distinct new outputs (those not passed through from an input).</summary>
    private List<Tensor> Forward(IReadOnlyList<Tensor> inputs)
    {
        var run = PlanRun.ForStage(_inputs with { EncoderHiddenStates = inputs[2] }, inputs[0], inputs[1], inputs.Skip(FixedInputs).ToList(), _outerSkipSize);
        for (int i = _from; i < _to; i++) _plan.RunStep(run, i, _mask, features: false);
        var produced = run.Skips.Prepend(run.Hidden!).ToList();               // the pops are done: only pushes remain
        var distinct = new List<Tensor>();
        var sources = new int[produced.Count];
        for (int j = 0; j < produced.Count; j++)
        {
            int input = IndexOf(inputs, produced[j]);
            if (input >= 0)
            {
                sources[j] = input;
                continue;
            }
            int slot = IndexOf(distinct, produced[j]);
            if (slot < 0)
            {
                distinct.Add(produced[j]);
                slot = distinct.Count - 1;
            }
            sources[j] = -1 - slot;
        }
        _sources = sources;
        return distinct;
    }

    /// <summary>The input gradients, one per input (null where the input needs none); parameter gradients accumulate.</summary>
    private List<Tensor?> Backward(IReadOnlyList<Tensor> saved, IReadOnlyList<Tensor> outputGradients)
    {
        using var scope = NewDisposeScope();
        var leaves = saved.Select((t, k) => t.detach().requires_grad_(_needsGrad[k])).ToList();
        using (enable_grad())
        {
            var outputs = Forward(leaves);
            var live = outputs.Select((o, j) => (Output: o, Gradient: outputGradients[j]))
                .Where(p => p.Output.requires_grad && p.Gradient is not null && !p.Gradient.IsInvalid).ToList();
            if (live.Count > 0) autograd.backward(live.Select(p => p.Output).ToList(), live.Select(p => p.Gradient).ToList());
        }
        return leaves.Select((leaf, k) => _needsGrad[k] ? (leaf.grad ?? zeros_like(leaf)).MoveToOuterDisposeScope() : null).ToList();
    }

    private static int IndexOf(IReadOnlyList<Tensor> list, Tensor t)
    {
        for (int i = 0; i < list.Count; i++)
            if (ReferenceEquals(list[i], t)) return i;
        return -1;
    }

    /// <summary>
    /// apply arguments: hidden, time activation, encoder states, the popped skips, then the <see cref="StageCheckpoint"/>;
    /// returns the stage's distinct new outputs.
    /// </summary>
    private sealed class StageFunction : autograd.MultiTensorFunction<StageFunction>
    {
        private const string Key = nameof(StageCheckpoint);

        public override string Name => "StageCheckpoint";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var checkpoint = (StageCheckpoint)vars[^1];
            var inputs = vars[..^1].Cast<Tensor>().ToList();
            ctx.save_for_backward(inputs);
            ctx.save_data(Key, checkpoint);
            return checkpoint.Forward(inputs);
        }

        /// <summary>
        /// Must not throw (TorchSharp aborts the process on an exception out of backward): a failure is reported on
        /// stderr and the input gradients become NaN, which the trainer's non-finite check stops on.
        /// </summary>
        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
        {
            var checkpoint = (StageCheckpoint)ctx.get_data(Key);
            List<Tensor?> gradients;
            try
            {
                gradients = checkpoint.Backward(ctx.get_saved_variables(), grad_outputs);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"error: the checkpointed backward of steps {checkpoint._from}..{checkpoint._to - 1} failed, gradients set to NaN: {e.Message}");
                gradients = checkpoint._inputMeta.Select((m, k) => checkpoint._needsGrad[k] ? full(m.Shape, double.NaN, dtype: m.Type, device: m.Device) : null).ToList();
            }
            return [.. gradients.Select(g => g!), null!];   // null: no gradient for that input or for the checkpoint object
        }
    }
}
