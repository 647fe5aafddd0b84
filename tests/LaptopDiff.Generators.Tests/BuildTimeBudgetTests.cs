using System.Reflection;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;
using static LaptopDiff.Generators.Tests.GeneratorHarness;

namespace LaptopDiff.Generators.Tests;

/// <summary>
/// <c>&lt;LaptopDiffPrune ... Budget="latency" Costs="x.costs.json" Batch="2" /&gt;</c>: the build prunes a share of the measured
/// step latency with the same exact knapsack as <c>prune --budget latency</c>; a missing or mismatched costs file is LD0018.
/// </summary>
public class BuildTimeBudgetTests
{
    private const string SpecPath = SpecFolder + "tiny-sd15.unet.yaml";
    private const string CriterionPath = SpecFolder + "tiny-sd15.criterion.json";
    private const string CostsPath = SpecFolder + "tiny-sd15.costs.json";

    private static readonly CostShape Shape = new(2, 16, 16, 77);

    private static readonly Lazy<UNetLayout> TinyLayout = new(() =>
        LayoutBuilder.BuildOrThrow(SpecParser.Parse("tiny-sd15.unet.yaml", File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sd15.unet.yaml"))).GetSpecOrThrow(), "tiny-sd15.unet.yaml"));

    private static string ShippedCriterion => File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sd15.criterion.json"));

    /// <summary>A costs file of tiny-sd15 at <see cref="Shape"/>: attentions 4 ms, ResNets 0.5 ms (made up), the layout's counts.</summary>
    private static CostsFile Costs()
    {
        var layout = TinyLayout.Value;
        var flops = UNetFlops.Count(layout, Shape);
        var units = layout.PrunableUnits.Select(u => new UnitCost
        {
            Id = u.Id, Params = u.ParamCount, Flops = flops[u.Id], LatencyMs = u.Id.Contains("attentions") ? 4 : 0.5,
        }).ToEquatableArray();
        return new CostsFile
        {
            Path = CostsPath,
            Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = SpecHash.Compute(layout.Spec) },
            Device = "cpu: test, 1 threads",
            Shape = Shape,
            Step = new StepCost { Params = layout.TotalParamCount, Flops = UNetFlops.Step(layout, Shape), LatencyMs = units.Sum(u => u.LatencyMs) + 3 },
            Units = units,
        };
    }

    private static Run RunItem(string? budget, string? costs, string? batch, string? costsText = null)
    {
        var item = new Dictionary<string, string>
        {
            ["build_metadata.AdditionalFiles.LaptopDiffPruneSpec"] = SpecPath,
            ["build_metadata.AdditionalFiles.LaptopDiffPruneRatios"] = "0.5",
        };
        if (budget != null) item["build_metadata.AdditionalFiles.LaptopDiffPruneBudget"] = budget;
        if (costs != null) item["build_metadata.AdditionalFiles.LaptopDiffPruneCosts"] = costs;
        if (batch != null) item["build_metadata.AdditionalFiles.LaptopDiffPruneBatch"] = batch;
        var metadata = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            [CriterionPath] = item,
            [CostsPath] = new Dictionary<string, string> { ["build_metadata.AdditionalFiles.LaptopDiffCosts"] = "true" },
        };
        var texts = new AdditionalText[]
        {
            Shipped("tiny-sd15.unet.yaml"), new InMemoryText(CriterionPath, ShippedCriterion), new InMemoryText(CostsPath, costsText ?? CostsWriter.Write(Costs())),
        };
        return Run(texts, metadata);
    }

    [Fact]
    public void ALatencyItemGivesTheKnapsacksClassOnThatBudget()
    {
        var run = RunItem("latency", "tiny-sd15.costs.json", "2");
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.GeneratedCodeProblems());
        var budget = PruneBudget.Create(BudgetKind.Latency, TinyLayout.Value, Costs(), Shape, CriterionPath).Budget!;
        var expected = KnapsackSolver.Solve(TinyLayout.Value, CriterionReader.Parse(CriterionPath, ShippedCriterion).File!, 0.5, budget: budget);
        var type = run.Load().GetType("LaptopDiff.Models.TinySd15UNetLatency50")!;
        Assert.NotNull(type);
        var layout = (UNetLayout)type.GetProperty("SpecLayout", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        Assert.Equal(expected.Removed, layout.Removed);
        // the removed units hold at least half of the step's 32 ms (6 x 4 + 10 x 0.5 + 3; the file has no fixed rest, so the step is the total)
        var costs = Costs();
        Assert.True(costs.Units.Where(u => layout.Removed.Contains(u.Id)).Sum(u => u.LatencyMs) >= 0.5 * costs.Step.LatencyMs);
        // and differ from the parameter budget's choice at the same ratio
        var byParams = KnapsackSolver.Solve(TinyLayout.Value, CriterionReader.Parse(CriterionPath, ShippedCriterion).File!, 0.5);
        Assert.NotEqual(byParams.Removed, layout.Removed);
    }

    [Fact]
    public void ALatencyItemWithoutCostsIsLD0018()
    {
        var run = RunItem("latency", null, "2");
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("LD0018", d.Id);
        Assert.Contains("needs a costs file", d.GetMessage());
    }

    [Fact]
    public void CostsOfAnotherBatchAreLD0018InTheCostsFile()
    {
        var run = RunItem("latency", "tiny-sd15.costs.json", null);   // the item's default batch is 1
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("LD0018", d.Id);
        Assert.Equal(CostsPath, d.Location.GetLineSpan().Path);
        Assert.Contains("but the budget is for batch 1", d.GetMessage());
    }

    [Fact]
    public void AMalformedCostsFileIsLD0017()
    {
        var text = CostsWriter.Write(Costs()).Replace("\"batch\": 2", "\"batch\": \"two\"");
        var run = RunItem("latency", "tiny-sd15.costs.json", "2", text);
        Assert.Contains(run.Diagnostics, d => d.Id == "LD0017" && d.Location.GetLineSpan().Path == CostsPath);
        Assert.DoesNotContain(run.Diagnostics, d => d.Id != "LD0017" && d.Id != "LD0018");
    }
}
