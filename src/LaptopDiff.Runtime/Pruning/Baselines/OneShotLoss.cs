using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning.Baselines;

/// <summary>A pruned model's one-shot output loss: mean over samples of the per-sample MSE to the teacher, and its standard error.</summary>
public sealed record LossEstimate(double Mean, double StdErr, int Samples);

/// <summary>
/// The real output loss of a pruned model before any retraining, on fixed inputs (a held-out calibration set
/// noised like the sweep): per-sample MSE between its eps and the teacher's, averaged. The teacher's outputs
/// are computed once. A selection that only removes units runs as the teacher's masked forward (the same
/// function as the pruned class, no copy); one that also cuts the mid block down (SSD-1B) runs as its own
/// pruned model initialised from the teacher's surviving tensors.
/// </summary>
public sealed class OneShotLoss : IDisposable
{
    private readonly UNet2DCondition _teacher;
    private readonly AdditivityInputs _inputs;
    private readonly List<Tensor> _teacherOut = new();
    private readonly TorchLossReducer _reducer = new();

    public OneShotLoss(UNet2DCondition teacher, AdditivityInputs inputs)
    {
        _teacher = teacher;
        _inputs = inputs.MoveTo(teacher.Device);
        using var mode = inference_mode();
        foreach (var batch in inputs.Batches)
        {
            using var scope = NewDisposeScope();
            _teacherOut.Add(teacher.Forward(batch).Sample.DetachFromDisposeScope());
        }
    }

    public int Samples => _inputs.Count;

    public LossEstimate Measure(PrunedSelection selection)
    {
        if (selection.MidReduction == null)
        {
            var mask = _teacher.Plan.Mask(selection.Removed.ToArray());
            return Measure(batch => _teacher.Forward(batch, mask).Sample);
        }
        using var student = StudentOf(selection);
        return Measure(batch => student.Forward(batch).Sample);
    }

    public void Dispose()
    {
        foreach (var t in _teacherOut) t.Dispose();
        _teacherOut.Clear();
    }

    private LossEstimate Measure(Func<UNetInputs, Tensor> forward)
    {
        var losses = new List<double?>();
        using var mode = inference_mode();
        for (int b = 0; b < _inputs.Batches.Count; b++)
        {
            using var scope = NewDisposeScope();
            losses.AddRange(_reducer.PerSampleMse(_teacherOut[b], forward(_inputs.Batches[b])).Select(l => (double?)l));
        }
        var (mean, stdErr) = SweepCriterion.MeanAndStdErr(losses);
        return new LossEstimate(mean, stdErr ?? 0, losses.Count);
    }

    /// <summary>The pruned model itself, holding copies of the teacher's surviving tensors (same keys).</summary>
    private UNet2DCondition StudentOf(PrunedSelection selection)
    {
        var student = new UNet2DCondition(selection.Layout).MoveTo(_teacher.Device);
        WeightLoader.CopyFrom(student, _teacher, $"{selection.Method}: the pruned model from the teacher");
        student.eval();
        return student;
    }
}
