using System.Diagnostics;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>Settings of an additivity check.</summary>
public sealed record AdditivityOptions
{
    public int Subsets { get; init; } = 40;
    public double MinRatio { get; init; } = 0.02;
    public double MaxRatio { get; init; } = 0.6;
    /// <summary>Seeds the subsets (and, in the CLI, the noising of the inputs).</summary>
    public long Seed { get; init; }
}

/// <summary>
/// DESIGN "The method" 3: for random subsets r of several sizes, the real output loss L(r) of removing
/// them together against each criterion's additive prediction sum_i r_i s_i, with Pearson and Spearman
/// correlations. Criteria: the criterion file's output loss, the same recomputed on these inputs, the
/// normalized stage-feature loss of single-unit ablations, and weight magnitude.
/// </summary>
public static class AdditivityCheck
{
    public static AdditivityReport Run(UNet2DCondition model, AdditivityInputs inputs, CriterionFile criterion,
        AdditivityOptions options, Action<string>? progress = null)
    {
        var layout = model.Layout;
        var diagnostics = criterion.CheckAgainst(layout);
        if (diagnostics.Count > 0) throw new SpecException(diagnostics.ToList());
        var watch = Stopwatch.StartNew();
        var subsets = SubsetSampler.Sample(layout, options.Subsets, options.MinRatio, options.MaxRatio, options.Seed);

        using var evaluator = new AdditivityEvaluator(model, inputs);
        progress?.Invoke($"teacher: {inputs.Count} samples in {inputs.Batches.Count} batch(es), {watch.Elapsed.TotalSeconds:F1} s");
        var singles = evaluator.SingleUnits(progress);
        var scores = new Dictionary<string, IReadOnlyDictionary<string, double>>
        {
            [AdditivityCriteria.OutputLoss] = criterion.Units.ToDictionary(u => u.Id, u => u.Loss, StringComparer.Ordinal),
            [AdditivityCriteria.OutputLossHere] = singles.ToDictionary(s => s.Unit, s => s.OutputLoss, StringComparer.Ordinal),
            [AdditivityCriteria.FeatureLoss] = singles.ToDictionary(s => s.Unit, s => s.FeatureLoss, StringComparer.Ordinal),
            [AdditivityCriteria.Magnitude] = MagnitudeCriterion.Compute(model),
        };

        var results = new List<SubsetResult>();
        for (int j = 0; j < subsets.Count; j++)
        {
            var s = subsets[j];
            double real = evaluator.OutputLoss(s.Units);
            var predictions = scores.ToDictionary(kv => kv.Key, kv => s.Units.Sum(u => kv.Value[u]), StringComparer.Ordinal);
            results.Add(new SubsetResult(s, real, predictions));
            progress?.Invoke($"subset {j + 1}/{subsets.Count}: {s.Units.Count} units, ratio {s.Ratio:P1}, real loss {real:G5} ({watch.Elapsed.TotalSeconds:F1} s)");
        }

        var real_ = results.Select(r => r.RealLoss).ToList();
        var correlations = scores.Keys.Select(c =>
        {
            var predicted = results.Select(r => r.Predictions[c]).ToList();
            return new CriterionCorrelation(c, Describe(c, criterion), Correlation.Pearson(predicted, real_), Correlation.Spearman(predicted, real_));
        }).ToList();

        return new AdditivityReport
        {
            SpecName = layout.Spec.Name,
            SpecHash = SpecHash.Compute(layout.Spec),
            CriterionPath = criterion.Path,
            InputsSource = inputs.Source,
            Samples = inputs.Count,
            Seed = options.Seed,
            TotalParams = layout.TotalParamCount,
            Criteria = scores.Keys.ToList(),
            SingleUnits = singles,
            Scores = scores,
            Subsets = results,
            Correlations = correlations,
            Elapsed = watch.Elapsed,
        };
    }

    private static string Describe(string criterion, CriterionFile file) => criterion switch
    {
        AdditivityCriteria.OutputLoss => $"output loss s_i from the criterion file ({file.Criterion}{(file.Calibration?.Samples is int n ? $", {n} samples" : "")})",
        AdditivityCriteria.OutputLossHere => "output loss s_i = L(e_i) recomputed on these inputs",
        AdditivityCriteria.FeatureLoss => "sum_k ||F_T^k - F_-i^k||^2 / ||F_T^k||^2 over stage features, single-unit ablations",
        AdditivityCriteria.Magnitude => "sum |w| of the unit / sum over prunable units",
        _ => criterion,
    };
}
