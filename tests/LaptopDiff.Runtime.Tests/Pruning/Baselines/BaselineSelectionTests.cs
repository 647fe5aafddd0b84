using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Pruning.Baselines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Pruning.Additivity;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Pruning.Baselines;

/// <summary>The random and magnitude baselines meet the ratio like the knapsack does, deterministically.</summary>
public class BaselineSelectionTests
{
    private static UNetLayout Layout(string file) => SpecFiles.LoadLayout(Path.Combine(TestPaths.RepoRoot, "models", file));

    [Theory]
    [InlineData("tiny-sd15.unet.yaml", 0.3)]
    [InlineData("sd15.unet.yaml", 0.5)]
    [InlineData("sdxl.unet.yaml", 0.1)]
    public void RandomMeetsTheRatioAndIsMinimalInItsOrder(string file, double ratio)
    {
        var layout = Layout(file);
        long required = KnapsackSolver.RequiredParams(ratio, layout.TotalParamCount);
        var sizes = layout.PrunableUnits.ToDictionary(u => u.Id, u => u.ParamCount);
        for (long seed = 0; seed < 5; seed++)
        {
            var selection = RandomSelection.Select(layout, ratio, seed);
            Assert.Equal(selection.Removed.Sum(id => sizes[id]), selection.RemovedParams);
            Assert.True(selection.RemovedParams >= required);
            // drawing stopped as soon as the ratio was met: without the last unit drawn the set falls short
            Assert.Contains(selection.Removed, id => selection.RemovedParams - sizes[id] < required);
            Assert.Equal(selection.Removed, RandomSelection.Select(layout, ratio, seed).Removed);   // same seed, same set
        }
        Assert.True(Enumerable.Range(0, 5).Select(s => string.Join("|", RandomSelection.Select(layout, ratio, s).Removed)).Distinct().Count() > 1);
    }

    [Theory]
    [InlineData(0.99)]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void RandomRejectsARatioOutOfReach(double ratio)
    {
        var e = Assert.Throws<SpecException>(() => RandomSelection.Select(Layout("tiny-sd15.unet.yaml"), ratio, 0));
        Assert.Equal(SpecDiagnosticIds.InfeasibleRatio, e.Diagnostics[0].Id);
    }

    [Fact]
    public void MagnitudeIsTheExactKnapsackOverTheMagnitudeCriterion()
    {
        using var model = TinyAdditivity.LoadModel();
        var scores = MagnitudeCriterion.Compute(model);
        foreach (var ratio in new[] { 0.1, 0.3, 0.5 })
        {
            var selection = MagnitudeSelection.Select(model, ratio);
            var expected = KnapsackSolver.Solve(model.Layout, MagnitudeSelection.Criterion(model.Layout, scores), ratio);
            Assert.Equal(expected.Removed, selection.Removed);
            Assert.True(selection.RemovedParams >= KnapsackSolver.RequiredParams(ratio, model.Layout.TotalParamCount));
            Assert.Equal(selection.Removed.Sum(id => scores[id]), selection.PredictedLoss!.Value, 12);
            // no cheaper single swap exists: removing any unit instead of a removed one either misses the ratio or costs more
            var sizes = model.Layout.PrunableUnits.ToDictionary(u => u.Id, u => u.ParamCount);
            foreach (var outId in selection.Removed)
                foreach (var inId in sizes.Keys.Except(selection.Removed))
                    if (selection.RemovedParams - sizes[outId] + sizes[inId] >= KnapsackSolver.RequiredParams(ratio, model.Layout.TotalParamCount))
                        Assert.True(scores[inId] >= scores[outId] - 1e-15, $"{inId} for {outId}");
        }
    }
}
