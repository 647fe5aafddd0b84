using System.Text.Json;
using LaptopDiff.Runtime.Benchmarks;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>laptop-diff profile</c>: a costs file whose counts are the layout's and whose latencies are measured and consistent.</summary>
public class ProfileCommandTests
{
    [Fact]
    public void WritesEveryPrunableUnitsCostsAndTheStepTotals()
    {
        using var temp = new TempFolder();
        var spec = PruneCriterionFixture.SpecPath;
        var output = temp.File("tiny.costs.json");
        var (code, stdout, error) = CliRunner.Run("profile", "--spec", spec, "--batch", "2", "--tokens", "7", "--runs", "3", "--warmup", "1",
            "--threads", "1", "--output", output);
        Assert.True(code == 0, error);
        Assert.Contains("residual", stdout);

        var layout = SpecFiles.LoadLayout(spec);
        var (costs, diagnostics) = CostsReader.Parse(output, File.ReadAllText(output));
        Assert.Empty(diagnostics);
        var shape = new CostShape(2, 16, 16, 7);
        Assert.Equal(shape, costs!.Shape);
        Assert.Equal(3, costs.Runs);
        Assert.StartsWith("cpu: ", costs.Device);
        Assert.Matches(@", \d+ threads$", costs.Device);   // the count is libtorch's global setting, which tests running beside this one may change
        Assert.Equal(SpecHash.Compute(layout.Spec), costs.Spec.Hash);
        var flops = UNetFlops.Count(layout, shape);
        Assert.Equal(layout.PrunableUnits.Select(u => (u.Id, u.ParamCount, flops[u.Id])), costs.Units.Select(u => (u.Id, u.Params, u.Flops)));
        Assert.Equal((layout.TotalParamCount, UNetFlops.Step(layout, shape)), (costs.Step.Params, costs.Step.Flops));
        Assert.All(costs.Units, u => Assert.True(u.LatencyMs > 0 && u.LatencyIqrMs >= 0, u.Id));
        Assert.True(costs.Step.FixedLatencyMs > 0);
        Assert.Empty(costs.CheckAgainst(layout, shape));
    }

    [Fact]
    public void ModelTakesThePipelinesUNetAndJsonPrintsTheFile()
    {
        using var temp = new TempFolder();
        var folder = TestPaths.SdPipeline("tiny-sd15-pipe");
        var output = temp.File("pipe.costs.json");
        var (code, stdout, error) = CliRunner.Run("profile", "--model", folder, "--runs", "1", "--warmup", "0", "--output", output, "--json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("laptopdiff.costs/1", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(File.ReadAllText(output), stdout);
        var layout = SpecFiles.LoadLayout(PipelineFolder.OpenStructure(folder).UNet.ConfigPath!);
        Assert.Equal(SpecHash.Compute(layout.Spec), doc.RootElement.GetProperty("spec").GetProperty("hash").GetString());
        Assert.Equal(layout.Spec.SampleSize, doc.RootElement.GetProperty("height").GetInt32());
    }

    [Theory]
    [InlineData(1, "--runs", "1")]                         // --spec and --model together
    [InlineData(2, "--runs", "0")]
    [InlineData(2, "--batch", "0")]
    public void BadOptionsWriteNothing(int exit, string option, string value)
    {
        using var temp = new TempFolder();
        var output = temp.File("x.costs.json");
        var args = new List<string> { "profile", "--spec", PruneCriterionFixture.SpecPath, option, value, "--output", output };
        if (exit == 1) args.AddRange(["--model", TestPaths.SdPipeline("tiny-sd15-pipe")]);
        var (code, _, error) = CliRunner.Run([.. args]);
        Assert.True(code == exit, error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void PredictedStepIsTheStepLessTheRemovedUnits()
    {
        var layout = SpecFiles.LoadLayout(PruneCriterionFixture.SpecPath);
        var costs = CostProfiler.Profile(layout, new CostProfileOptions { Runs = 1, WarmupRuns = 0, Tokens = 7 });
        var removed = costs.Units.Take(3).ToList();
        double parts = costs.Units.Sum(u => u.LatencyMs) + costs.Step.FixedLatencyMs!.Value;
        Assert.Equal(costs.Step.LatencyMs * (parts - removed.Sum(u => u.LatencyMs)) / parts, CostProfiler.PredictedStepMs(costs, removed.Select(u => u.Id)), 9);
        Assert.Equal(costs.Step.LatencyMs, CostProfiler.PredictedStepMs(costs, []), 9);
        Assert.Equal((costs.Units.Sum(u => u.LatencyMs) + costs.Step.FixedLatencyMs!.Value) / costs.Step.LatencyMs - 1, CostProfiler.Residual(costs), 9);
    }
}
