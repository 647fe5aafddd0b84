namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>Names of the criteria the check compares.</summary>
public static class AdditivityCriteria
{
    /// <summary>s_i from the criterion file (the sweep's output loss).</summary>
    public const string OutputLoss = "output_loss";
    /// <summary>s_i = L(e_i) recomputed on the check's own inputs (the exact-additivity reference).</summary>
    public const string OutputLossHere = "output_loss_here";
    public const string FeatureLoss = "feature_loss";
    public const string Magnitude = "magnitude";
}

/// <summary>One subset: what it removes, its real loss and each criterion's prediction (sum of its units' scores).</summary>
public sealed record SubsetResult(UnitSubset Subset, double RealLoss, IReadOnlyDictionary<string, double> Predictions);

/// <summary>How well one criterion's predictions follow the real loss over all subsets (NaN when undefined).</summary>
public sealed record CriterionCorrelation(string Criterion, string Description, double Pearson, double Spearman);

/// <summary>Everything the check measured.</summary>
public sealed record AdditivityReport
{
    public string SpecName { get; init; } = "";
    public string SpecHash { get; init; } = "";
    public string WeightsPath { get; init; } = "";
    public string CriterionPath { get; init; } = "";
    public string InputsSource { get; init; } = "";
    public int Samples { get; init; }
    public long Seed { get; init; }
    public long TotalParams { get; init; }
    public IReadOnlyList<string> Criteria { get; init; } = Array.Empty<string>();
    public IReadOnlyList<SingleUnitScore> SingleUnits { get; init; } = Array.Empty<SingleUnitScore>();
    /// <summary>Per criterion, per unit id: the single-unit score used in predictions.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Scores { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, double>>();
    public IReadOnlyList<SubsetResult> Subsets { get; init; } = Array.Empty<SubsetResult>();
    public IReadOnlyList<CriterionCorrelation> Correlations { get; init; } = Array.Empty<CriterionCorrelation>();
    public TimeSpan Elapsed { get; init; }
}
