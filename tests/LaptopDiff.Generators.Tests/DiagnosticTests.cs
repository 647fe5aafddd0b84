using System.Reflection;
using LaptopDiff.Generators.Pipeline;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;
using static LaptopDiff.Generators.Tests.GeneratorHarness;

namespace LaptopDiff.Generators.Tests;

/// <summary>Spec problems are compiler errors located in the YAML: id, file, line and column.</summary>
public class DiagnosticTests
{
    private const string Path = SpecFolder + "toy.unet.yaml";

    // line numbers below are 1-based, as dotnet build prints them
    private const string Valid = """
        name: Toy
        sample_size: 8
        cross_attention_dim: 16
        norm: { groups: 4 }
        down:
          - { type: cross_attn, channels: 16, layers: 1, heads: 2 }
          - { type: plain, channels: 32, layers: 1 }
        mid: { type: cross_attn, heads: 2 }
        up:
          - { type: plain, channels: 32, layers: 2 }
          - { type: cross_attn, channels: 16, layers: 2, heads: 2 }
        """;

    /// <summary>The one diagnostic a broken toy spec gives; no class is generated for it.</summary>
    private static Diagnostic Only(string yaml)
    {
        var run = Run(Yaml("toy.unet.yaml", yaml));
        Assert.Empty(run.Result.GeneratedSources);
        Assert.Null(run.Result.Exception);
        return Assert.Single(run.Diagnostics);
    }

    private static (string Id, string Path, int Line, int Column) Where(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        return (d.Id, span.Path, span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1);
    }

    /// <summary>The YAML text the diagnostic's span covers (what an IDE would underline).</summary>
    private static string Underlined(Diagnostic d, string yaml) => yaml.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);

    [Fact]
    public void ValidSpecHasNoDiagnostics()
    {
        var run = Run(Yaml("toy.unet.yaml", Valid));
        Assert.Empty(run.Diagnostics);
        Assert.Equal("Toy.g.cs", Assert.Single(run.Result.GeneratedSources).HintName);
    }

    [Fact]
    public void BadIndentationIsInvalidYamlAtTheOffendingLine()
    {
        var yaml = Valid.Replace("mid: { type: cross_attn, heads: 2 }", "mid:\n  type: cross_attn\n   heads: 2");
        var d = Only(yaml);
        Assert.Equal((SpecDiagnosticIds.InvalidYaml, Path, 10, 9), Where(d));
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
    }

    [Fact]
    public void UnclosedBracketIsInvalidYaml()
    {
        var yaml = Valid.Replace("{ type: plain, channels: 32, layers: 1 }", "{ type: plain, channels: 32, layers: 1");
        var d = Only(yaml);
        // the spec library reports where parsing last succeeded: the end of the stage before the unclosed '{'
        Assert.Equal((SpecDiagnosticIds.InvalidYaml, Path, 6, 59), Where(d));
        Assert.StartsWith("malformed YAML after this point (an unclosed '[' or '{'?)", d.GetMessage());
    }

    [Fact]
    public void UnknownBlockTypePointsAtTheValue()
    {
        var yaml = Valid.Replace("{ type: plain, channels: 32, layers: 1 }", "{ type: attn_down, channels: 32, layers: 1 }");
        var d = Only(yaml);
        Assert.Equal((SpecDiagnosticIds.UnknownBlockType, Path, 7, 13), Where(d));
        Assert.Equal("attn_down", Underlined(d, yaml));
        // exactly what dotnet build prints
        Assert.Equal($"{Path}(7,13): error LD0002: 'attn_down' is not a block type; expected one of cross_attn, plain", d.ToString());
    }

    [Fact]
    public void UnknownKeyPointsAtTheKeyAndSuggests()
    {
        var yaml = Valid.Replace("channels: 16, layers: 1, heads: 2", "channels: 16, layer: 1, heads: 2");
        var run = Run(Yaml("toy.unet.yaml", yaml));
        var d = Assert.Single(run.Diagnostics, x => x.Id == SpecDiagnosticIds.UnknownKey);
        Assert.Equal((SpecDiagnosticIds.UnknownKey, Path, 6, 39), Where(d));
        Assert.Equal("layer", Underlined(d, yaml));
        Assert.Contains("did you mean 'layers'", d.GetMessage());
    }

    [Fact]
    public void HeadsThatDoNotDivideChannelsPointAtTheStage()
    {
        var yaml = Valid.Replace("{ type: cross_attn, channels: 16, layers: 1, heads: 2 }", "{ type: cross_attn, channels: 16, layers: 1, heads: 3 }");
        var d = Only(yaml);
        Assert.Equal((SpecDiagnosticIds.HeadsDoNotDivide, Path, 6, 5), Where(d));
        Assert.Equal("down_blocks.0.attentions.0: 3 heads do not divide 16 channels", d.GetMessage());
    }

    [Fact]
    public void SkipMismatchPointsAtTheUpPath()
    {
        var yaml = Valid.Replace("{ type: plain, channels: 32, layers: 2 }", "{ type: plain, channels: 32, layers: 3 }");
        var d = Only(yaml);
        Assert.Equal((SpecDiagnosticIds.SkipCountMismatch, Path, 10, 5), Where(d));
        Assert.Contains("produces 4 skip connections", d.GetMessage());
    }

    [Fact]
    public void UnknownRemovedUnitPointsAtTheEntry()
    {
        var yaml = Valid + "\nremoved:\n  - down_blocks.0.resnets.0\n  - down_blocks.7.resnets.0\n";
        var d = Only(yaml);
        Assert.Equal((SpecDiagnosticIds.UnknownUnit, Path, 14, 5), Where(d));
        Assert.Equal("down_blocks.7.resnets.0", Underlined(d, yaml));
    }

    [Fact]
    public void RemovingAChannelChangingUnitPointsAtTheEntry()
    {
        var yaml = Valid + "\nremoved: [down_blocks.1.resnets.0]\n";
        var d = Only(yaml);
        Assert.Equal((SpecDiagnosticIds.NotPrunable, Path, 12, 11), Where(d));
        Assert.Contains("changes channels 16 -> 32", d.GetMessage());
    }

    [Fact]
    public void MissingBasePointsAtTheBaseValue()
    {
        var overlay = "# pruned\nname: ToyPruned\nbase: nothere.unet.yaml\nremoved: [mid_block.resnets.1]\n";
        var run = Run(Yaml("toy.unet.yaml", Valid), Yaml("toy-pruned.unet.yaml", overlay));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal((SpecDiagnosticIds.BaseNotFound, SpecFolder + "toy-pruned.unet.yaml", 3, 7), Where(d));
        Assert.Equal("nothere.unet.yaml", Underlined(d, overlay));
        Assert.Equal("Toy.g.cs", Assert.Single(run.Result.GeneratedSources).HintName);
    }

    [Fact]
    public void AJsonBaseIsNamedAsARuntimeFeature()
    {
        var overlay = "name: ToyPruned\nbase: ../model/unet/config.json\nremoved: [mid_block.resnets.1]\n";
        var run = Run(Yaml("toy.unet.yaml", Valid), Yaml("toy-pruned.unet.yaml", overlay));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal((SpecDiagnosticIds.BaseNotFound, SpecFolder + "toy-pruned.unet.yaml", 2, 7), Where(d));
        Assert.Equal("../model/unet/config.json", Underlined(d, overlay));
        Assert.StartsWith("base spec '../model/unet/config.json' is a diffusers config.json: JSON bases are a runtime feature", d.GetMessage());
    }

    [Fact]
    public void ABrokenBaseIsReportedOnceOnItsFileAndNamedByTheOverlay()
    {
        var broken = Valid.Replace("{ type: plain, channels: 32, layers: 2 }", "{ type: plain, channels: 32, layers: 3 }");
        var overlay = "name: ToyPruned\nbase: toy.unet.yaml\nremoved: [mid_block.resnets.1]\n";
        var run = Run(Yaml("toy.unet.yaml", broken), Yaml("toy-pruned.unet.yaml", overlay));
        Assert.Empty(run.Result.GeneratedSources);
        Assert.Equal(new[]
            {
                (SpecDiagnosticIds.SkipCountMismatch, Path, 10, 5),
                (SpecDiagnosticIds.BaseNotFound, SpecFolder + "toy-pruned.unet.yaml", 2, 7),
            },
            run.Diagnostics.Select(Where).OrderBy(w => w.Path == Path ? 0 : 1));
        Assert.Contains("has errors (reported on toy.unet.yaml)", run.Diagnostics[1].GetMessage() + run.Diagnostics[0].GetMessage());
    }

    [Fact]
    public void ASpecPruningAPrunedSpecIsRefused()
    {
        var first = "name: ToyA\nbase: toy.unet.yaml\nremoved: [mid_block.resnets.1]\n";
        var second = "name: ToyB\nbase: toy-a.unet.yaml\nremoved: [mid_block.resnets.0]\n";
        var run = Run(Yaml("toy.unet.yaml", Valid), Yaml("toy-a.unet.yaml", first), Yaml("toy-b.unet.yaml", second));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal((SpecDiagnosticIds.BaseNotFound, SpecFolder + "toy-b.unet.yaml", 2, 7), Where(d));
        Assert.Contains("is itself a pruned spec", d.GetMessage());
        Assert.Equal(new[] { "Toy.g.cs", "ToyA.g.cs" }, run.Result.GeneratedSources.Select(s => s.HintName).Order());
    }

    [Fact]
    public void TwoSpecsNamingOneClassIsAnErrorNotACrash()
    {
        var run = Run(Yaml("a.unet.yaml", Valid), Yaml("b.unet.yaml", Valid));
        Assert.Null(run.Result.Exception);
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal((SpecDiagnosticIds.DuplicateName, SpecFolder + "b.unet.yaml", 1, 1), Where(d));
        Assert.Contains($"already generated from {SpecFolder}a.unet.yaml", d.GetMessage());
        Assert.Equal("Toy.g.cs", Assert.Single(run.Result.GeneratedSources).HintName);
    }

    [Fact]
    public void InvalidNameIsReported()
    {
        var d = Only(Valid.Replace("name: Toy", "name: 3Toy"));
        Assert.Equal((SpecDiagnosticIds.InvalidName, Path, 1, 7), Where(d));
    }

    [Fact]
    public void EverySpecIdHasItsDescriptor()
    {
        var ids = typeof(SpecDiagnosticIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Contains("LD9999", ids);
        Assert.Equal(ids, DiagnosticDescriptors.All.Select(d => d.Id));
        foreach (var id in ids)
        {
            var descriptor = DiagnosticDescriptors.For(id);
            Assert.Equal(id, descriptor.Id);
            Assert.Equal("LaptopDiff.Spec", descriptor.Category);
            Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
            Assert.NotEmpty(descriptor.Title.ToString());
            Assert.NotEmpty(descriptor.Description.ToString());
        }
    }

    [Fact]
    public void TheReleaseNotesAndTheSpecReadmeListTheDescriptorTable()
    {
        var releases = System.IO.Path.Combine("generators", "LaptopDiff.Generators", "AnalyzerReleases.Unshipped.md");
        var rules = DiagnosticDescriptors.All.Select(d => $"{d.Id} | LaptopDiff.Spec | Error | {d.Title}");
        Assert.True(File.ReadAllText(System.IO.Path.Combine(RepoPaths.Root, releases)).Contains(string.Join("\n", rules) + "\n"),
            $"{releases} must list every rule of DiagnosticDescriptors.All in order, one line each:\n{string.Join("\n", rules)}");

        var readme = System.IO.Path.Combine("models", "README.md");
        var rows = DiagnosticDescriptors.All.Select(d => $"| {d.Id} | {d.Description} |");
        var table = "| id | meaning |\n|---|---|\n" + string.Join("\n", rows) + "\n";
        Assert.True(File.ReadAllText(System.IO.Path.Combine(RepoPaths.Root, readme)).Contains(table),
            $"{readme}'s diagnostics table must be DiagnosticDescriptors.All's ids and descriptions; replace it with:\n{table}");
    }
}
