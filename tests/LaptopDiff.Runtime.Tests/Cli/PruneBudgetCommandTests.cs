using System.Text.Json;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>prune --budget flops|latency --costs C</c>: the knapsack on another cost, and the costs file checked before anything is written.</summary>
public class PruneBudgetCommandTests
{
    private static readonly CostShape Shape = new(2, 16, 16, 7);

    /// <summary>
    /// tiny-sd15 with a criterion and a costs file at batch 2, 16x16: every attention 10 ms, every ResNet 1 ms (made up, so
    /// the expected choice is known), FLOPs and parameters the layout's; the step adds 5 ms of fixed work.
    /// </summary>
    private static (TempFolder Temp, string Spec, string Criterion, string Costs) Setup(CostShape? shape = null, string? costsSpec = null)
    {
        var temp = new TempFolder();
        var spec = temp.File("tiny-sd15.unet.yaml");
        File.Copy(PruneCriterionFixture.SpecPath, spec);
        var layout = SpecFiles.LoadLayout(spec);
        var criterion = temp.File("tiny-sd15.criterion.json");
        File.WriteAllText(criterion, CriterionWriter.Write(new CriterionFile
        {
            Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = SpecHash.Compute(layout.Spec) },
            Units = layout.PrunableUnits.Select(u => new CriterionUnit { Id = u.Id, Params = u.ParamCount, Loss = 0.25, StdErr = 0.01 }).ToEquatableArray(),
        }));
        var costsLayout = costsSpec == null ? layout : SpecFiles.LoadLayout(costsSpec);
        var s = shape ?? Shape;
        var flops = UNetFlops.Count(costsLayout, s);
        var units = costsLayout.PrunableUnits.Select(u => new UnitCost
        {
            Id = u.Id, Params = u.ParamCount, Flops = flops[u.Id], LatencyMs = u.Id.Contains("attentions") ? 10 : 1, LatencyIqrMs = 0.1,
        }).ToEquatableArray();
        var costs = temp.File("tiny-sd15.costs.json");
        File.WriteAllText(costs, CostsWriter.Write(new CostsFile
        {
            Spec = new CriterionSpecRef { Name = costsLayout.Spec.Name, Hash = SpecHash.Compute(costsLayout.Spec) },
            Device = "cpu: test, 1 threads",
            Shape = s,
            Runs = 3,
            Step = new StepCost { Params = costsLayout.TotalParamCount, Flops = UNetFlops.Step(costsLayout, s), LatencyMs = units.Sum(u => u.LatencyMs) + 5, FixedLatencyMs = 5 },
            Units = units,
        }));
        return (temp, spec, criterion, costs);
    }

    [Fact]
    public void ALatencyBudgetRemovesThatShareOfTheMeasuredStep()
    {
        var (temp, spec, criterion, costs) = Setup();
        using var _ = temp;
        var output = temp.File("fast.unet.yaml");
        var (code, stdout, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.4", "--budget", "latency",
            "--costs", costs, "--batch", "2", "--output", output, "--json");
        Assert.True(code == 0, error);
        // 6 attentions x 10 ms + 10 ResNets x 1 ms + 5 ms = 75 ms; 0.4 of it is 30 ms: three attentions, the fewest units (equal losses)
        var pruned = SpecFiles.LoadLayout(output);
        Assert.Equal(3, pruned.Removed.Count);
        Assert.All(pruned.Removed, id => Assert.Contains("attentions", id));
        Assert.Equal("TinySd15UNetLatency40", pruned.Spec.Name);
        var text = File.ReadAllText(output);
        Assert.Contains("latency budget", text);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("latency", root.GetProperty("budget").GetString());
        Assert.Equal(30.0, root.GetProperty("removed_cost").GetDouble(), 9);
        Assert.Equal(30.0, root.GetProperty("required_cost").GetDouble(), 9);
        Assert.Equal(75.0, root.GetProperty("total_cost").GetDouble(), 9);
        Assert.Equal(0.4, root.GetProperty("achieved_ratio").GetDouble(), 12);
        // what the profile predicts for the student: the 75 ms step less the removed 30 ms
        Assert.Equal(45.0, root.GetProperty("predicted_step_ms").GetDouble(), 9);
    }

    [Fact]
    public void AFlopsFrontierWritesOneSpecPerRatioWithDefaultNames()
    {
        var (temp, spec, criterion, costs) = Setup(Shape with { Batch = 1 });
        using var _ = temp;
        var (code, stdout, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.2,0.4", "--budget", "flops",
            "--costs", costs, "--output", temp.Path + "/");
        Assert.True(code == 0, error);
        Assert.Contains("FLOPs", stdout);
        var layout = SpecFiles.LoadLayout(spec);
        var flops = UNetFlops.Count(layout, Shape with { Batch = 1 });
        long total = UNetFlops.Step(layout, Shape with { Batch = 1 });
        foreach (var pct in new[] { 20, 40 })
        {
            var pruned = SpecFiles.LoadLayout(temp.File($"tiny-sd15.flops{pct}.unet.yaml"));
            Assert.True(pruned.Removed.Sum(id => flops[id]) >= pct / 100.0 * total, $"{pct}%");
        }
    }

    [Theory]
    [InlineData("latency", false, "2", "16", "needs a costs file")]
    [InlineData("flops", false, "2", "16", "needs a costs file")]
    [InlineData("latency", true, "1", "16", "measured at batch 2, 16x16 latents, but the budget is for batch 1, 16x16")]
    [InlineData("latency", true, "2", "32", "but the budget is for batch 2, 32x32")]
    public void WithoutAFittingCostsFileNothingIsWritten(string budget, bool giveCosts, string batch, string size, string message)
    {
        var (temp, spec, criterion, costs) = Setup();
        using var _ = temp;
        var output = temp.File("p.unet.yaml");
        var args = new List<string> { "prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.5", "--budget", budget, "--batch", batch,
            "--height", size, "--width", size, "--output", output };
        if (giveCosts) args.AddRange(["--costs", costs]);
        var (code, _, error) = CliRunner.Run([.. args]);
        Assert.Equal(2, code);
        Assert.Contains("LD0018", error);
        Assert.Contains(message, error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void CostsOfAnotherSpecAreRefused()
    {
        var (temp, spec, criterion, costs) = Setup(costsSpec: Path.Combine(TestPaths.RepoRoot, "models", "digits.unet.yaml"));
        using var _ = temp;
        var output = temp.File("p.unet.yaml");
        var (code, _, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.5", "--budget", "latency",
            "--costs", costs, "--batch", "2", "--output", output);
        Assert.Equal(2, code);
        Assert.Contains("LD0018", error);
        Assert.Contains("structure hash", error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void BudgetOptionsDoNotGoWithPresets()
    {
        var (temp, spec, _, costs) = Setup();
        using var __ = temp;
        var (code, _, error) = CliRunner.Run("prune", "--spec", spec, "--preset", "bk-sdm-base", "--budget", "latency", "--costs", costs, "--output", temp.File("p.unet.yaml"));
        Assert.Equal(1, code);
        Assert.Contains("--preset and --random take none", error);
        (code, _, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", costs, "--ratio", "0.5", "--budget", "time", "--output", temp.File("p.unet.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("give one of params, flops, latency", error);
    }
}
