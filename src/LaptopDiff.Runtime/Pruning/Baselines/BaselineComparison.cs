using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning.Baselines;

/// <summary>One method's row: its selection and real one-shot loss, or why it was skipped.</summary>
public sealed record ComparisonRow(string Method, PrunedSelection? Selection, LossEstimate? Loss, string? SkipReason);

/// <summary>What to compare: the teacher, the LAPTOP criterion, the target ratio and the methods (in report order).</summary>
public sealed record ComparisonRequest
{
    public required UNet2DCondition Teacher { get; init; }
    public required CriterionFile Criterion { get; init; }
    public required double Ratio { get; init; }
    public IReadOnlyList<string> Methods { get; init; } = BaselineMethods.All;
    /// <summary>Whether the methods were named by the user: then one that does not apply is an error, not a skipped row.</summary>
    public bool MethodsExplicit { get; init; }
    /// <summary>Seed of the random baseline's order.</summary>
    public long Seed { get; init; }
    /// <summary>Pruned students made elsewhere (e.g. under another budget), by row name: the units each removes, measured like the methods.</summary>
    public IReadOnlyList<(string Name, IReadOnlyList<string> Removed)> Students { get; init; } = [];
}

/// <summary>
/// Every method at one ratio, measured the same way (<see cref="OneShotLoss"/>): LAPTOP's exact knapsack over
/// the output-loss criterion, the handcrafted presets (at their own fixed ratio), random and magnitude (at the
/// target ratio), and any students made elsewhere. Selections are all made before the first forward, so a bad request fails fast.
/// </summary>
public static class BaselineComparison
{
    public static IReadOnlyList<ComparisonRow> Run(ComparisonRequest request, AdditivityInputs heldOut, Action<string>? progress = null)
    {
        var unknown = request.Methods.FirstOrDefault(m => !BaselineMethods.All.Contains(m));
        if (unknown != null) throw new InputException($"unknown method '{unknown}'; methods are {string.Join(", ", BaselineMethods.All)}");
        var layout = request.Teacher.Layout;
        RandomSelection.Required(layout, request.Ratio);   // one ratio check (LD0016) for every method
        var rows = request.Methods.Distinct().Select(m => Select(m, request, layout)).ToList();
        foreach (var (name, removed) in request.Students)
        {
            if (rows.Any(r => r.Method == name))
                throw new InputException($"student '{name}' has the name of a method; give it another");
            rows.Add(new ComparisonRow(name, PrunedSelection.FromUnits(name, layout, removed, Predicted(request.Criterion, removed)), null, null));
        }
        var skipped = rows.FirstOrDefault(r => r.SkipReason != null);
        if (request.MethodsExplicit && skipped != null)
            throw new InputException($"method {skipped.Method} does not apply to {layout.Spec.Name}: {skipped.SkipReason}");

        using var loss = new OneShotLoss(request.Teacher, heldOut);
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Selection is not PrunedSelection selection) continue;
            rows[i] = rows[i] with { Loss = loss.Measure(selection) };
            progress?.Invoke($"{rows[i].Method}: {selection.Removed.Count} units, ratio {selection.AchievedRatio:0.0000}, loss {rows[i].Loss!.Mean:G4}");
        }
        return rows;
    }

    /// <summary>The criterion's sum over <paramref name="removed"/>: what the knapsack would predict for that set.</summary>
    private static double? Predicted(CriterionFile criterion, IReadOnlyList<string> removed)
    {
        var losses = criterion.Units.ToDictionary(u => u.Id, u => u.Loss, StringComparer.Ordinal);
        return removed.All(losses.ContainsKey) ? removed.Sum(u => losses[u]) : null;
    }

    private static ComparisonRow Select(string method, ComparisonRequest request, UNetLayout layout)
    {
        switch (method)
        {
            case BaselineMethods.Laptop:
                var solution = KnapsackSolver.Solve(layout, request.Criterion, request.Ratio);
                return new ComparisonRow(method, PrunedSelection.FromUnits(method, layout, solution.Removed, solution.PredictedLoss), null, null);
            case BaselineMethods.Random:
                return new ComparisonRow(method, RandomSelection.Select(layout, request.Ratio, request.Seed), null, null);
            case BaselineMethods.Magnitude:
                return new ComparisonRow(method, MagnitudeSelection.Select(request.Teacher, request.Ratio), null, null);
            default:
                var preset = PruningPresets.TryApply(method, layout, out var reason);
                return preset == null
                    ? new ComparisonRow(method, null, null, reason)
                    : new ComparisonRow(method, PrunedSelection.FromPreset(preset), null, null);
        }
    }
}
