namespace LaptopDiff.Spec.Tests.Pruning;

/// <summary>A knapsack solution becomes a pruned spec that parses, resolves against its base and builds.</summary>
public class PrunedSpecBuilderTests
{
    private static SpecParseResult ParseBase(string file) =>
        SpecParser.Parse(file, File.ReadAllText(Path.Combine(RepoPaths.Models, file)));

    /// <summary>Parse the overlay as the generator would: resolve its base by file name, then expand.</summary>
    private static UNetLayout Load(string overlayFile, string yaml, string baseFile)
    {
        var overlay = SpecParser.Parse(overlayFile, yaml);
        Assert.Empty(overlay.Diagnostics);
        var resolved = SpecResolver.Resolve(overlay, name => SpecResolver.BaseFileName(name) == baseFile ? ParseBase(baseFile) : null);
        var (layout, diagnostics) = LayoutBuilder.Build(resolved.GetSpecOrThrow(), overlayFile);
        Assert.Empty(diagnostics);
        return layout!;
    }

    [Theory]
    [InlineData("sd15.unet.yaml", 0.5, "Sd15UNetPruned50")]
    [InlineData("sdxl.unet.yaml", 0.3, "SdxlUNetPruned30")]
    [InlineData("tiny-sd15.unet.yaml", 0.29, "TinySd15UNetPruned29")]   // 0.29 * 100 is 28.999... in doubles
    public void PrunedSpecResolvesAndHasTheRightSize(string baseFile, double ratio, string expectedName)
    {
        var full = Synthetic.Layout(baseFile);
        var criterion = Synthetic.Criterion(full, 4);
        var criterionHash = SpecHash.OfText(CriterionWriter.Write(criterion));
        var solution = KnapsackSolver.Solve(full, criterion, ratio);
        var yaml = PrunedSpecBuilder.Build(full, baseFile, solution, criterionHash, ratio, "2026-11-25");

        var pruned = Load("pruned.unet.yaml", yaml, baseFile);
        Assert.Equal(expectedName, pruned.Spec.Name);
        Assert.Equal(full.TotalParamCount - solution.RemovedParams, pruned.TotalParamCount);
        Assert.True(pruned.TotalParamCount <= full.TotalParamCount - KnapsackSolver.RequiredParams(ratio, full.TotalParamCount));
        Assert.Equal(solution.Removed, pruned.Removed);   // execution order both
        Assert.Equal(new ProvenanceSpec { Method = "laptop output-loss knapsack", Criterion = criterionHash, Ratio = ratio, Date = "2026-11-25" }, pruned.Spec.Provenance);
        Assert.Equal(SpecHash.Compute(full.Spec), SpecHash.Compute(pruned.Spec));   // same structure, so the criterion still applies
        Assert.StartsWith($"# {expectedName}: {full.Spec.Name} without {solution.Removed.Count} of its {full.PrunableUnits.Count()} prunable units", yaml);
        Assert.Contains($"\nbase: {baseFile}\nname: {expectedName}\nremoved:\n  - {solution.Removed[0]}\n", yaml.Replace("\r\n", "\n"));
    }

    [Fact]
    public void RemovedUnitsKeepTheirOneShotLossesInTheProvenance()
    {
        var full = Synthetic.Layout("tiny-sd15.unet.yaml");
        var criterion = Synthetic.Criterion(full, 4);
        var solution = KnapsackSolver.Solve(full, criterion, 0.4);
        var losses = criterion.Units.ToDictionary(u => u.Id, u => u.Loss);
        var yaml = PrunedSpecBuilder.Build(full, "tiny-sd15.unet.yaml", solution, "sha256:" + new string('0', 64), 0.4, "2026-12-06", unitLosses: losses);

        var pruned = Load("tiny-pruned.unet.yaml", yaml, "tiny-sd15.unet.yaml");
        var recorded = pruned.Spec.Provenance!.Losses;
        Assert.Equal(solution.Removed, recorded.Select(u => u.Id));
        Assert.All(recorded, u => Assert.Equal(losses[u.Id], u.Loss));       // "R" round trip: bit for bit
        Assert.Equal(SpecHash.Compute(full.Spec), SpecHash.Compute(pruned.Spec));
    }

    [Fact]
    public void EveryRatioOfTheFrontierBuilds()
    {
        var full = Synthetic.Layout("tiny-sd15.unet.yaml");
        var criterion = Synthetic.Criterion(full, 9) with { Criterion = "magnitude" };
        long previous = full.TotalParamCount;
        foreach (var solution in KnapsackSolver.Frontier(full, criterion, new[] { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7 }))
        {
            var yaml = PrunedSpecBuilder.Build(full, "tiny-sd15.unet.yaml", solution, "sha256:" + new string('0', 64), solution.Ratio, "2026-11-25",
                name: $"Tiny{(int)(solution.Ratio * 10)}", criterion: criterion.Criterion);
            var pruned = Load("tiny-pruned.unet.yaml", yaml, "tiny-sd15.unet.yaml");
            Assert.Equal("laptop magnitude knapsack", pruned.Spec.Provenance!.Method);
            Assert.Equal(full.TotalParamCount - solution.RemovedParams, pruned.TotalParamCount);
            Assert.True(pruned.TotalParamCount < previous);
            previous = pruned.TotalParamCount;
        }
    }

    [Fact]
    public void SolutionsOfAnotherModelAreRefused()
    {
        var sd15 = Synthetic.Layout("sd15.unet.yaml");
        var tiny = Synthetic.Layout("tiny-sd15.unet.yaml");
        var solution = KnapsackSolver.Solve(tiny, Synthetic.Criterion(tiny, 1), 0.3);
        // the ids exist in both models, but the counts do not match
        var e = Assert.Throws<ArgumentException>(() => PrunedSpecBuilder.Build(sd15, "sd15.unet.yaml", solution, "h", 0.3, "d"));
        Assert.Contains("removed parameters, but its units hold", e.Message);
        var forged = solution with { Removed = new[] { "down_blocks.1.resnets.0" }.ToEquatableArray() };
        Assert.Contains("not a prunable unit of Sd15UNet", Assert.Throws<ArgumentException>(() => PrunedSpecBuilder.Build(sd15, "sd15.unet.yaml", forged, "h", 0.3, "d")).Message);
        var good = KnapsackSolver.Solve(sd15, Synthetic.Criterion(sd15, 1), 0.3);
        Assert.Contains("must be a C# identifier", Assert.Throws<ArgumentException>(() => PrunedSpecBuilder.Build(sd15, "sd15.unet.yaml", good, "h", 0.3, "d", name: "3x")).Message);
    }
}
