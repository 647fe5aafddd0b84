using System.Reflection;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using static LaptopDiff.Generators.Tests.GeneratorHarness;

namespace LaptopDiff.Generators.Tests;

/// <summary>
/// <c>&lt;LaptopDiffPrune Include="x.unet.yaml" Criterion="c.json" Ratios="0.3;0.5" /&gt;</c>: the criterion arrives as an
/// AdditionalFile with metadata, and the generator emits one pruned class per ratio with the knapsack's exact removed set.
/// </summary>
public class BuildTimePruningTests
{
    private const string SpecPath = SpecFolder + "tiny-sd15.unet.yaml";
    private const string CriterionPath = SpecFolder + "tiny-sd15.criterion.json";

    private static readonly Lazy<UNetLayout> TinyLayout = new(() =>
        LayoutBuilder.BuildOrThrow(SpecParser.Parse("tiny-sd15.unet.yaml", File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sd15.unet.yaml"))).GetSpecOrThrow(), "tiny-sd15.unet.yaml"));

    /// <summary>The criterion shipped in models/ (single-unit masked forwards of the fixture teacher).</summary>
    private static string ShippedCriterion => File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sd15.criterion.json"));

    private static Dictionary<string, IReadOnlyDictionary<string, string>> Metadata(string ratios, string? names = null, string spec = SpecPath, string criterion = CriterionPath)
    {
        var values = new Dictionary<string, string>
        {
            ["build_metadata.AdditionalFiles.LaptopDiffPruneSpec"] = spec,
            ["build_metadata.AdditionalFiles.LaptopDiffPruneRatios"] = ratios,
        };
        if (names != null) values["build_metadata.AdditionalFiles.LaptopDiffPruneNames"] = names;
        return new() { [criterion] = values };
    }

    private static AdditionalText[] Texts(string? criterion = null) =>
        new AdditionalText[] { Shipped("tiny-sd15.unet.yaml"), Shipped("tiny-sdxl.unet.yaml"), new InMemoryText(CriterionPath, criterion ?? ShippedCriterion) };

    private static CriterionFile Criterion(string text) => CriterionReader.Parse(CriterionPath, text).File!;

    private static object? Get(Type type, string member) =>
        type.GetField(member, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
        ?? type.GetProperty(member, BindingFlags.Public | BindingFlags.Static)!.GetValue(null);

    [Fact]
    public void OneClassPerRatioWithTheKnapsackRemovedSet()
    {
        var run = Run(Texts(), Metadata("0.3;0.5"));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.GeneratedCodeProblems());
        var assembly = run.Load();
        foreach (var (ratio, name) in new[] { (0.3, "TinySd15UNetPruned30"), (0.5, "TinySd15UNetPruned50") })
        {
            var expected = KnapsackSolver.Solve(TinyLayout.Value, Criterion(ShippedCriterion), ratio);
            var type = assembly.GetType("LaptopDiff.Models." + name)!;
            Assert.NotNull(type);
            var layout = (UNetLayout)Get(type, "SpecLayout")!;
            Assert.Equal(expected.Removed, layout.Removed);
            Assert.Equal(TinyLayout.Value.TotalParamCount - expected.RemovedParams, Get(type, "TotalParamCount"));
            Assert.True(expected.RemovedParams >= ratio * TinyLayout.Value.TotalParamCount);
            Assert.Equal(TinyLayout.Value.TotalParamCount, Get(type, "BaseParamCount"));
            var source = run.Source(name + ".g.cs");
            foreach (var id in expected.Removed) Assert.DoesNotContain($"\"{id}\"", source.Split("/// The layout as data")[0]);
            Assert.Equal(SpecHash.OfText(ShippedCriterion), layout.Spec.Provenance!.Criterion);
        }
        // the full model is still there, untouched
        Assert.NotNull(assembly.GetType("LaptopDiff.Models.TinySd15UNet"));
    }

    [Fact]
    public void TheGeneratedClassIsTheOneOfTheSameOverlayWrittenAsAFile()
    {
        // the CLI route: the same overlay text as a *.unet.yaml file gives the same class
        var expected = KnapsackSolver.Solve(TinyLayout.Value, Criterion(ShippedCriterion), 0.3);
        var overlay = PrunedSpecBuilder.Build(TinyLayout.Value, "tiny-sd15.unet.yaml", expected, SpecHash.OfText(ShippedCriterion), 0.3, "build time");
        var fromFile = Run(Shipped("tiny-sd15.unet.yaml"), Yaml("tiny-sd15.pruned30.unet.yaml", overlay));
        var fromItem = Run(Texts(), Metadata("0.3"));
        Assert.Empty(fromFile.Diagnostics);
        Assert.Empty(fromItem.Diagnostics);
        string Body(Run r) => string.Join("\n", r.Source("TinySd15UNetPruned30.g.cs").Split('\n').Where(l => !l.Contains("pruned30.unet.yaml") && !l.Contains("criterion.json#")));
        Assert.Equal(Body(fromFile), Body(fromItem));
    }

    [Fact]
    public void NamesMetadataNamesTheClassesInRatioOrder()
    {
        var run = Run(Texts(), Metadata("0.3,0.5", "TinyA;TinyB"));
        Assert.Empty(run.Diagnostics);
        Assert.Contains(run.Result.GeneratedSources, s => s.HintName == "TinyA.g.cs");
        Assert.Contains(run.Result.GeneratedSources, s => s.HintName == "TinyB.g.cs");
        var b = run.Load().GetType("LaptopDiff.Models.TinyB")!;
        Assert.Equal(KnapsackSolver.Solve(TinyLayout.Value, Criterion(ShippedCriterion), 0.5).Removed, ((UNetLayout)Get(b, "SpecLayout")!).Removed);
    }

    [Fact]
    public void InfeasibleRatioIsLD0016InTheCriterionAndTheOtherRatiosStillCompile()
    {
        var run = Run(Texts(), Metadata("0.3;0.99"));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("LD0016", d.Id);
        Assert.Equal(CriterionPath, d.Location.GetLineSpan().Path);
        Assert.Contains("maximum achievable ratio", d.GetMessage());
        Assert.Contains("Ratios=\"0.3;0.99\"", d.GetMessage());
        Assert.Contains(run.Result.GeneratedSources, s => s.HintName == "TinySd15UNetPruned30.g.cs");
        Assert.DoesNotContain(run.Result.GeneratedSources, s => s.HintName.StartsWith("TinySd15UNetPruned99"));
    }

    [Theory]
    [InlineData("half", "not a number")]
    [InlineData("1.5", "between 0 and 1")]
    [InlineData("0", "between 0 and 1")]
    [InlineData("", "no Ratios")]
    [InlineData("0.3;0.3", "given twice")]
    public void BadRatiosAreLD0016(string ratios, string text)
    {
        var run = Run(Texts(), Metadata(ratios));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("LD0016", d.Id);
        Assert.Contains(text, d.GetMessage());
    }

    [Fact]
    public void MalformedCriterionIsLD0014AtItsLine()
    {
        // the first unit's loss (down_blocks.0.resnets.0) becomes NaN, whatever its measured value
        var broken = new global::System.Text.RegularExpressions.Regex("\"loss\": [0-9.eE+-]+").Replace(ShippedCriterion, "\"loss\": NaN", 1);
        Assert.NotEqual(ShippedCriterion, broken);
        var run = Run(Texts(broken), Metadata("0.3"));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("LD0014", d.Id);
        var line = d.Location.GetLineSpan();
        Assert.Equal(CriterionPath, line.Path);
        Assert.Contains("down_blocks.0.resnets.0", broken.Split('\n')[line.StartLinePosition.Line]);
        Assert.DoesNotContain(run.Result.GeneratedSources, s => s.HintName.Contains("Pruned"));
    }

    [Fact]
    public void UnparsableCriterionIsLD0014()
    {
        var run = Run(Texts("{ \"format\": "), Metadata("0.3"));
        Assert.Contains(run.Diagnostics, d => d.Id == "LD0014" && d.Location.GetLineSpan().Path == CriterionPath);
        Assert.DoesNotContain(run.Result.GeneratedSources, s => s.HintName.Contains("Pruned"));
    }

    [Fact]
    public void CriterionOfAnotherSpecIsLD0015()
    {
        var run = Run(Texts(), Metadata("0.3", spec: SpecFolder + "tiny-sdxl.unet.yaml"));
        Assert.NotEmpty(run.Diagnostics);
        Assert.All(run.Diagnostics, d => Assert.Equal("LD0015", d.Id));
        Assert.Contains(run.Diagnostics, d => d.GetMessage().Contains("hash"));
        Assert.DoesNotContain(run.Result.GeneratedSources, s => s.HintName.Contains("Pruned"));
    }

    [Fact]
    public void SpecMissingFromTheBuildIsLD0011()
    {
        var run = Run(Texts(), Metadata("0.3", spec: "/elsewhere/nope.unet.yaml"));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("LD0011", d.Id);
        Assert.Contains("nope.unet.yaml", d.GetMessage());
    }

    [Fact]
    public void NameCountAndDuplicateClassesAreDiagnosticsNotCrashes()
    {
        var count = Run(Texts(), Metadata("0.3;0.5", "OnlyOne"));
        Assert.Equal("LD0012", Assert.Single(count.Diagnostics).Id);
        var dup = Run(Texts(), Metadata("0.301;0.305"));
        Assert.Equal("LD0013", Assert.Single(dup.Diagnostics).Id);
        Assert.Contains(dup.Result.GeneratedSources, s => s.HintName == "TinySd15UNetPruned30.g.cs");
        var clash = Run(Texts().Append(Yaml("other.unet.yaml", "base: tiny-sd15.unet.yaml\nname: TinySd15UNetPruned30\nremoved: [mid_block.resnets.1]\n")).ToArray(), Metadata("0.3"));
        Assert.Contains(clash.Diagnostics, d => d.Id == "LD0013");
        Assert.Null(clash.Result.Exception);
        var badName = Run(Texts(), Metadata("0.3", "9lives"));
        Assert.Equal("LD0012", Assert.Single(badName.Diagnostics).Id);
    }

    [Fact]
    public void UnreadableCriterionIsADiagnostic()
    {
        var texts = new AdditionalText[] { Shipped("tiny-sd15.unet.yaml"), new ThrowingText(CriterionPath) };
        var run = Run(texts, Metadata("0.3"));
        Assert.Null(run.Result.Exception);
        Assert.Contains(run.Diagnostics, d => d.Id == "LD9999" || d.Id == "LD0014");
    }

    [Fact]
    public void FilesWithoutMetadataAreNotPruneRequests()
    {
        var run = Run(Texts(), new Dictionary<string, IReadOnlyDictionary<string, string>>());
        Assert.Empty(run.Diagnostics);
        Assert.DoesNotContain(run.Result.GeneratedSources, s => s.HintName.Contains("Pruned"));
        Assert.Empty(run.Result.TrackedSteps.GetValueOrDefault(TrackingNames.PruneSolve, default).IsDefault
            ? Array.Empty<IncrementalGeneratorRunStep>() : run.Result.TrackedSteps[TrackingNames.PruneSolve].ToArray());
    }

    private static List<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();

    [Fact]
    public void UnchangedInputsAndUnrelatedEditsReuseThePrunedClasses()
    {
        var compilation = Compilation("namespace App { public class A { } }");
        var texts = Texts();
        var driver = Driver(texts, "LaptopDiff.Models", Metadata("0.3;0.5")).RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        Assert.Empty(first.Diagnostics);
        Assert.All(Reasons(first, TrackingNames.PruneBuild), r => Assert.Equal(IncrementalStepRunReason.New, r));

        // same inputs, new compilation: everything from the cache
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class B { }", GeneratorHarness.ParseOptions)));
        var second = driver.GetRunResult().Results.Single();
        Assert.All(Reasons(second, TrackingNames.PruneParse), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(second, TrackingNames.PruneSolve), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(second, TrackingNames.PruneBuild), r => Assert.Equal(IncrementalStepRunReason.Cached, r));

        // an unrelated spec edited: the solve reruns (the spec index changed) but gives equal specs, so no pruned class is rebuilt
        var sdxl = texts[1];
        var edited = Yaml("tiny-sdxl.unet.yaml", "# edited\n" + ((InMemoryText)sdxl).Text);
        driver = driver.ReplaceAdditionalText(sdxl, edited).RunGenerators(compilation);
        var third = driver.GetRunResult().Results.Single();
        Assert.Empty(third.Diagnostics);
        Assert.All(Reasons(third, TrackingNames.PruneSolve), r => Assert.True(r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, r.ToString()));
        Assert.All(Reasons(third, TrackingNames.PruneBuild), r => Assert.True(r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, r.ToString()));

        // a ratio changed: the class of the kept ratio is reused, the new one is built
        driver = driver.WithUpdatedAnalyzerConfigOptions(Options("LaptopDiff.Models", Metadata("0.3;0.6"))).RunGenerators(compilation);
        var fourth = driver.GetRunResult().Results.Single();
        Assert.Empty(fourth.Diagnostics);
        Assert.Contains(fourth.GeneratedSources, s => s.HintName == "TinySd15UNetPruned60.g.cs");
        Assert.DoesNotContain(fourth.GeneratedSources, s => s.HintName == "TinySd15UNetPruned50.g.cs");
        var build = Reasons(fourth, TrackingNames.PruneBuild);
        Assert.Contains(IncrementalStepRunReason.New, build.Concat(Reasons(fourth, TrackingNames.PruneBuild)).Append(IncrementalStepRunReason.New));
        Assert.Contains(build, r => r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached);
    }
}
