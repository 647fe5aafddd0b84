using LaptopDiff.Runtime.Execution;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>One unit's single-ablation scores on the check's inputs.</summary>
/// <param name="OutputLoss">L(e_i) = mean over samples of the per-sample MSE between eps_{-i} and eps_T (the sweep's unit).</param>
/// <param name="FeatureLoss">Mean over samples of sum_k ||F_T^k - F_{-i}^k||^2 / ||F_T^k||^2 over the stage features.</param>
public sealed record SingleUnitScore(string Unit, double OutputLoss, double FeatureLoss);

/// <summary>
/// Real losses of masked forwards against the teacher on fixed inputs. The teacher's outputs and stage
/// features are computed once and reused by every subset. Losses are the sweep's: per-sample sums of
/// squared error (float64, <see cref="TorchLossReducer"/>), averaged over samples. Runs on the model's device (the inputs are moved there).
/// </summary>
public sealed class AdditivityEvaluator : IDisposable
{
    private readonly UNet2DCondition _model;
    private readonly AdditivityInputs _inputs;
    private readonly List<UNetOutput> _teacher = new();
    private readonly List<Dictionary<string, Tensor>> _teacherFeatureNorms = new();   // per batch: stage -> ||F_T^k||^2 [B] float64
    private readonly TorchLossReducer _reducer = new();

    public AdditivityEvaluator(UNet2DCondition model, AdditivityInputs inputs)
    {
        _model = model;
        _inputs = inputs.MoveTo(model.Device);
        using var mode = inference_mode();
        foreach (var batch in inputs.Batches)
        {
            using var scope = NewDisposeScope();
            var teacher = model.Forward(batch, mask: null, features: true);
            teacher.Sample.DetachFromDisposeScope();
            foreach (var f in teacher.Features!.Values) f.DetachFromDisposeScope();
            _teacher.Add(teacher);
            _teacherFeatureNorms.Add(teacher.Features.ToDictionary(kv => kv.Key,
                kv => SquaredNorms(kv.Value).DetachFromDisposeScope(), StringComparer.Ordinal));
        }
    }

    public int Samples => _inputs.Count;

    /// <summary>The real output loss L(r) of removing <paramref name="units"/> together (0 for none).</summary>
    public double OutputLoss(IReadOnlyList<string> units)
    {
        var mask = _model.Plan.Mask(units.ToArray());
        double total = 0;
        using var mode = inference_mode();
        for (int b = 0; b < _inputs.Batches.Count; b++)
        {
            using var scope = NewDisposeScope();
            var output = _model.Forward(_inputs.Batches[b], mask).Sample;
            total += _reducer.PerSampleMse(_teacher[b].Sample, output).Sum();
        }
        return total / Samples;
    }

    /// <summary>Single-unit ablations of every prunable unit: output loss and normalized stage-feature loss, from the same forwards.</summary>
    public IReadOnlyList<SingleUnitScore> SingleUnits(Action<string>? progress = null)
    {
        var units = _model.Layout.PrunableUnits.Select(u => u.Id).ToList();
        var scores = new List<SingleUnitScore>();
        using var mode = inference_mode();
        for (int i = 0; i < units.Count; i++)
        {
            var mask = _model.Plan.Mask(units[i]);
            double output = 0, feature = 0;
            for (int b = 0; b < _inputs.Batches.Count; b++)
            {
                using var scope = NewDisposeScope();
                var ablated = _model.Forward(_inputs.Batches[b], mask, features: true);
                output += _reducer.PerSampleMse(_teacher[b].Sample, ablated.Sample).Sum();
                feature += FeatureLoss(b, ablated.Features!);
            }
            scores.Add(new SingleUnitScore(units[i], output / Samples, feature / Samples));
            progress?.Invoke($"single-unit ablation {i + 1}/{units.Count}: {units[i]}");
        }
        return scores;
    }

    public void Dispose()
    {
        foreach (var t in _teacher) t.Dispose();
        foreach (var norms in _teacherFeatureNorms)
            foreach (var n in norms.Values) n.Dispose();
        _teacher.Clear();
        _teacherFeatureNorms.Clear();
    }

    /// <summary>Sum over samples of sum_k ||F_T^k - F^k||^2 / ||F_T^k||^2 (per-sample normalisation, as in distillation).</summary>
    private double FeatureLoss(int batch, IReadOnlyDictionary<string, Tensor> features)
    {
        double total = 0;
        foreach (var (stage, teacherNorm) in _teacherFeatureNorms[batch])
        {
            var diff = features[stage].to_type(ScalarType.Float64) - _teacher[batch].Features![stage].to_type(ScalarType.Float64);
            var ratio = SquaredNorms(diff) / teacherNorm.clamp_min(1e-30);     // [B]; a zero teacher feature would divide by 0
            total += ratio.sum().item<double>();
        }
        return total;
    }

    /// <summary>||x_b||^2 per sample, float64 [B].</summary>
    private static Tensor SquaredNorms(Tensor x) =>
        x.to_type(ScalarType.Float64).square().reshape(x.shape[0], -1).sum(1);
}
