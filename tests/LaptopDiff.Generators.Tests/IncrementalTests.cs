using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using static LaptopDiff.Generators.Tests.GeneratorHarness;

namespace LaptopDiff.Generators.Tests;

/// <summary>The incremental cache: unrelated edits reuse everything, a YAML edit redoes only its own spec.</summary>
public class IncrementalTests
{
    private static readonly string[] Steps =
    {
        TrackingNames.Parse, TrackingNames.BaseIndex, TrackingNames.Resolve, TrackingNames.Options, TrackingNames.Build,
        TrackingNames.ClassNames, TrackingNames.Unique, TrackingNames.Diagnostics, TrackingNames.Models,
    };

    private const string Overlay = "name: TinySd15Pruned\nbase: tiny-sd15.unet.yaml\nremoved: [mid_block.resnets.1]\n";

    private static AdditionalText[] Texts() =>
        new AdditionalText[] { Shipped("tiny-sd15.unet.yaml"), Shipped("tiny-sdxl.unet.yaml"), Yaml("tiny-sd15-pruned.unet.yaml", Overlay) };

    /// <summary>Reasons of a tracked step's outputs, by the spec file they came from where that can be told.</summary>
    private static List<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();

    /// <summary>Reasons of the two source outputs (diagnostics, then code), one entry per spec each.</summary>
    private static List<IncrementalStepRunReason> SourceReasons(GeneratorRunResult result) =>
        result.TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun(AdditionalText[] texts)
    {
        var compilation = Compilation("namespace App { public class A { } }");
        var driver = Driver(texts).RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        Assert.Empty(first.Diagnostics);
        Assert.Equal(3, first.GeneratedSources.Length);
        Assert.All(Reasons(first, TrackingNames.Parse), r => Assert.Equal(IncrementalStepRunReason.New, r));
        return (driver, compilation);
    }

    [Fact]
    public void AnUnrelatedCSharpEditReusesEveryStep()
    {
        var (driver, compilation) = FirstRun(Texts());
        var tree = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText("namespace App { public class A { public int X; } }", GeneratorHarness.ParseOptions));

        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in Steps)
        {
            Assert.True(second.TrackedSteps.ContainsKey(step), $"step {step} was not tracked");
            Assert.All(Reasons(second, step), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
        Assert.Equal(6, SourceReasons(second).Count);
        Assert.All(SourceReasons(second), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.Equal(3, second.GeneratedSources.Length);
    }

    [Fact]
    public void EditingOneSpecRegeneratesOnlyThatClass()
    {
        var texts = Texts();
        var (driver, compilation) = FirstRun(texts);
        var sdxl = (InMemoryText)texts[1];
        var changed = Yaml("tiny-sdxl.unet.yaml", sdxl.Text!.Replace("name: TinySdxlUNet", "name: TinySdxlUNet\ndescription: \"edited\""));

        var second = driver.ReplaceAdditionalText(sdxl, changed).RunGenerators(compilation).GetRunResult().Results.Single();

        // parse: the edited file only
        Assert.Equal(1, Reasons(second, TrackingNames.Parse).Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(2, Reasons(second, TrackingNames.Parse).Count(r => r == IncrementalStepRunReason.Cached));
        // build and emit: one new model, the two others untouched
        var build = second.TrackedSteps[TrackingNames.Build].SelectMany(s => s.Outputs).ToList();
        Assert.Equal(1, build.Count(o => o.Reason == IncrementalStepRunReason.Modified));
        Assert.All(build.Where(o => o.Reason != IncrementalStepRunReason.Modified), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        var models = second.TrackedSteps[TrackingNames.Models].SelectMany(s => s.Outputs).ToList();
        Assert.Equal("TinySdxlUNet", Assert.Single(models, o => o.Reason == IncrementalStepRunReason.Modified).Value is Pipeline.UNetClassModel m ? m.ClassName : null);
        Assert.Equal(1, SourceReasons(second).Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(5, SourceReasons(second).Count(r => r == IncrementalStepRunReason.Cached));
        Assert.Contains("/// edited.", second.GeneratedSources.Single(s => s.HintName == "TinySdxlUNet.g.cs").SourceText.ToString());
    }

    [Fact]
    public void AYamlCommentEditRegeneratesNothing()
    {
        var texts = Texts();
        var (driver, compilation) = FirstRun(texts);
        var sd15 = (InMemoryText)texts[0];
        var commented = Yaml("tiny-sd15.unet.yaml", sd15.Text + "\n# a comment at the end\n");

        var second = driver.ReplaceAdditionalText(sd15, commented).RunGenerators(compilation).GetRunResult().Results.Single();

        Assert.Equal(1, Reasons(second, TrackingNames.Parse).Count(r => r == IncrementalStepRunReason.Modified));
        // the model is equal, so nothing downstream of the build runs again
        Assert.DoesNotContain(IncrementalStepRunReason.Modified, Reasons(second, TrackingNames.Models));
        Assert.DoesNotContain(IncrementalStepRunReason.New, Reasons(second, TrackingNames.Models));
        Assert.All(SourceReasons(second), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void EditingAPrunedSpecLeavesTheBaseIndexAndOtherSpecsAlone()
    {
        var texts = Texts();
        var (driver, compilation) = FirstRun(texts);
        var overlay = (InMemoryText)texts[2];
        var edited = Yaml("tiny-sd15-pruned.unet.yaml", Overlay.Replace("[mid_block.resnets.1]", "[mid_block.resnets.1, mid_block.resnets.0]"));

        var second = driver.ReplaceAdditionalText(overlay, edited).RunGenerators(compilation).GetRunResult().Results.Single();

        Assert.All(Reasons(second, TrackingNames.BaseIndex), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.Equal(1, Reasons(second, TrackingNames.Resolve).Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(2, Reasons(second, TrackingNames.Resolve).Count(r => r == IncrementalStepRunReason.Cached));
        Assert.Equal(1, SourceReasons(second).Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(5, SourceReasons(second).Count(r => r == IncrementalStepRunReason.Cached));
    }
}
