using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>Costs files on disk (<see cref="CostsFile"/>, written by <see cref="Benchmarks.CostProfiler"/>), as prune reads them.</summary>
public static class CostsFiles
{
    /// <summary>The file at <paramref name="path"/>, parsed; its diagnostics (LD0017) as a <see cref="SpecException"/>.</summary>
    public static CostsFile Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"costs file not found: {path}", path);
        var (file, diagnostics) = CostsReader.Parse(path, File.ReadAllText(path));
        if (file == null || diagnostics.Count > 0) throw new SpecException(diagnostics.ToList());
        return file;
    }

    /// <summary>
    /// The knapsack's budget for <paramref name="layout"/> (the full model): parameters, or FLOPs or latency from the costs
    /// file, which must have been measured on this spec at the budget's batch and latent size. A FLOP or latency budget
    /// without a costs file, or a file that does not fit, is a <see cref="SpecException"/> (LD0018, LD0017).
    /// </summary>
    public static PruneBudget Budget(KnapsackBudget budget, UNetLayout layout, string specPath)
    {
        var costs = budget.CostsPath == null ? null : Read(budget.CostsPath);
        var shape = new CostShape(budget.Batch, budget.Height ?? layout.Spec.SampleSize, budget.Width ?? layout.Spec.SampleSize, costs?.Shape.Tokens ?? 1);
        var (result, diagnostics) = PruneBudget.Create(budget.Kind, layout, costs, shape, budget.CostsPath ?? specPath);
        return result ?? throw new SpecException(diagnostics.ToList());
    }
}
