using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>
/// The weight-magnitude baseline: unit i scores sum of |w| over all its parameters (the L1 norm, so it
/// grows with both weight size and unit size, like mean |w| x count), divided by the same sum over all
/// prunable units so the scores sum to 1. Needs no data; a subset's prediction is its units' sum.
/// </summary>
public static class MagnitudeCriterion
{
    public static IReadOnlyDictionary<string, double> Compute(UNet2DCondition model)
    {
        var state = model.state_dict();
        var raw = new Dictionary<string, double>(StringComparer.Ordinal);
        using (no_grad())
        {
            foreach (var unit in model.Layout.PrunableUnits)
            {
                double sum = 0;
                foreach (var key in unit.Keys)
                {
                    if (!state.TryGetValue(key.Name, out var w))
                        throw new InvalidOperationException($"unit '{unit.Id}': parameter '{key.Name}' is not in the model's state dict");
                    using var scope = NewDisposeScope();
                    sum += w.to_type(ScalarType.Float64).abs().sum().item<double>();
                }
                raw[unit.Id] = sum;
            }
        }
        double total = raw.Values.Sum();
        return raw.ToDictionary(kv => kv.Key, kv => total > 0 ? kv.Value / total : 0.0, StringComparer.Ordinal);
    }
}
