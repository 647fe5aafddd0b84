namespace LaptopDiff.Spec.Tests;

/// <summary>Bad specs give positioned diagnostics (1-based line, column) and never exceptions.</summary>
public class SpecDiagnosticsTests
{
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

    private static (UNetLayout? Layout, List<SpecDiagnostic> Diagnostics) Load(string yaml)
    {
        var parsed = SpecParser.Parse("toy.unet.yaml", yaml);
        if (!parsed.Success) return (null, parsed.Diagnostics.ToList());
        var (layout, diagnostics) = LayoutBuilder.Build(parsed.Spec!, "toy.unet.yaml");
        return (layout, diagnostics.ToList());
    }

    [Fact]
    public void ValidSpecHasNoDiagnostics()
    {
        var (layout, diagnostics) = Load(Valid);
        Assert.Empty(diagnostics);
        Assert.NotNull(layout);
        // conv_in output, one per down layer, one per downsampler: 1 + 2 + 1 = 4 skips for 2 + 2 up layers
        Assert.Equal(4, layout!.Spec.Up.Sum(s => s.Layers));
    }

    [Fact]
    public void MalformedYamlIsPositioned()
    {
        var d = Assert.Single(Load("name: Toy\ndown:\n  - { type: plain, channels: 16\nmid: {}\n").Diagnostics);
        Assert.Equal(SpecDiagnosticIds.InvalidYaml, d.Id);
        Assert.Equal("toy.unet.yaml", d.Path);
        Assert.True(d.Span.Line >= 3, $"{d}");
    }

    [Fact]
    public void UnknownBlockTypePointsAtTheValue()
    {
        var d = Assert.Single(Load(Valid.Replace("{ type: plain, channels: 32, layers: 1 }", "{ type: attn_down, channels: 32, layers: 1 }")).Diagnostics);
        Assert.Equal(SpecDiagnosticIds.UnknownBlockType, d.Id);
        Assert.Equal((7, 13), (d.Span.Line, d.Span.Column));
        Assert.Contains("'attn_down'", d.Message);
        Assert.Equal("toy.unet.yaml(7,13): error LD0002: " + d.Message, d.ToString());
    }

    [Fact]
    public void MisspelledKeySuggestsTheRightOne()
    {
        var d = Assert.Single(Load(Valid.Replace("layers: 1, heads: 2", "layer: 1, heads: 2")).Diagnostics,
            x => x.Id == SpecDiagnosticIds.UnknownKey);
        Assert.Equal(6, d.Span.Line);
        Assert.Contains("did you mean 'layers'", d.Message);
    }

    [Fact]
    public void SpecsAndCriterionFilesShareOneReader()
    {
        // a quoted number is a string in YAML as in JSON
        var quoted = Assert.Single(Load(Valid.Replace("channels: 32, layers: 1", "channels: \"32\", layers: 1")).Diagnostics);
        Assert.Equal((SpecDiagnosticIds.InvalidValue, "'channels' in down[1] must be an integer, got the string \"32\""), (quoted.Id, quoted.Message));
        // null and ~ count as absent
        var missing = Assert.Single(Load(Valid.Replace("sample_size: 8", "sample_size: ~")).Diagnostics);
        Assert.Equal((SpecDiagnosticIds.MissingKey, "the spec needs 'sample_size'"), (missing.Id, missing.Message));
        // an unknown key gets the closest known one and the keys in the order they are read, in both kinds of file
        var typo = Assert.Single(Load(Valid.Replace("groups: 4", "group: 4")).Diagnostics);
        Assert.Equal("unknown key 'group' in norm; did you mean 'groups'? expected one of: groups, eps, transformer_eps, layer_norm_eps", typo.Message);
        var json = CriterionReader.Parse("c.json", "{ \"format\": \"laptopdiff.criterion/1\", \"criterion\": \"output_loss\", \"units\": [], \"spec\": { \"name\": \"X\", \"hash\": \"sha256:" + new string('0', 64) + "\", \"nam\": 1 } }").Diagnostics;
        Assert.Equal("unknown key 'nam' in spec; did you mean 'name'? expected one of: hash, name", Assert.Single(json).Message);
    }

    [Fact]
    public void GroupsThatDoNotDivideChannelsAreInconsistent()
    {
        var diagnostics = Load(Valid.Replace("groups: 4", "groups: 5")).Diagnostics;
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, d => Assert.Equal(SpecDiagnosticIds.InconsistentChannels, d.Id));
        Assert.Contains(diagnostics, d => d.Span.Line == 6 && d.Message.Contains("not divisible by norm.groups = 5"));
    }

    [Fact]
    public void SkipCountMismatchPointsAtTheUpPath()
    {
        var d = Assert.Single(Load(Valid.Replace("{ type: plain, channels: 32, layers: 2 }", "{ type: plain, channels: 32, layers: 3 }")).Diagnostics);
        Assert.Equal(SpecDiagnosticIds.SkipCountMismatch, d.Id);
        Assert.Equal(10, d.Span.Line);
        Assert.Contains("produces 4 skip connections", d.Message);
        Assert.Contains("consume 5", d.Message);
    }

    [Fact]
    public void HeadDimMustDivideChannels()
    {
        var d = Assert.Single(Load(Valid.Replace("channels: 16, layers: 1, heads: 2", "channels: 16, layers: 1, head_dim: 5")).Diagnostics);
        Assert.Equal(SpecDiagnosticIds.HeadsDoNotDivide, d.Id);
        Assert.Equal(6, d.Span.Line);
    }

    [Fact]
    public void RemovingAChannelChangingResnetIsRefused()
    {
        var d = Assert.Single(Load(Valid + "\nremoved: [down_blocks.1.resnets.0]\n").Diagnostics);
        Assert.Equal(SpecDiagnosticIds.NotPrunable, d.Id);
        Assert.Contains("changes channels 16 -> 32", d.Message);
    }

    [Fact]
    public void UnknownRemovedUnitIsNamed()
    {
        var d = Assert.Single(Load(Valid + "\nremoved: [down_blocks.7.resnets.0]\n").Diagnostics);
        Assert.Equal(SpecDiagnosticIds.UnknownUnit, d.Id);
        Assert.Contains("down_blocks.7.resnets.0", d.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[1, 2, 3]")]
    [InlineData("name: [")]
    [InlineData("&a a: &a b")]
    [InlineData("name: 1Bad\nsample_size: 99999999999999999999\ndown: 3\nmid: x\nup: {}")]
    public void GarbageNeverThrows(string text)
    {
        var result = SpecParser.Parse("g.unet.yaml", text);
        Assert.False(result.Success);
        Assert.NotEmpty(result.Diagnostics);
    }

    [Fact]
    public void PrunabilityFollowsTheRules()
    {
        var layout = Load(Valid + "\nprune: { pinned: [mid_block.resnets.1] }\n").Layout!;
        var byId = layout.Components.ToDictionary(c => c.Id);
        Assert.False(byId["down_blocks.1.resnets.0"].Prunable);   // 16 -> 32
        Assert.True(byId["down_blocks.0.resnets.0"].Prunable);    // 16 -> 16
        Assert.True(byId["down_blocks.0.attentions.0"].Prunable);
        Assert.False(byId["up_blocks.0.resnets.0"].Prunable == false && byId["up_blocks.0.resnets.0"].InChannels != 32);
        Assert.True(byId["up_blocks.0.resnets.0"].Prunable);      // h 32 (mid) -> 32, skip dropped
        Assert.False(byId["up_blocks.1.resnets.0"].Prunable);     // h 32 -> 16
        Assert.True(byId["up_blocks.1.resnets.1"].Prunable);
        Assert.False(byId["mid_block.resnets.1"].Prunable);
        Assert.Equal("pinned in spec", byId["mid_block.resnets.1"].Reason);
        Assert.False(byId["down_blocks.0.downsamplers.0"].IsUnit);
    }

    [Fact]
    public void PrunedOverlayResolvesAgainstItsBase()
    {
        var baseResult = SpecParser.Parse("toy.unet.yaml", Valid);
        var overlay = SpecParser.Parse("toy-pruned.unet.yaml", "base: toy.unet.yaml\nname: ToyPruned\nremoved: [down_blocks.0.attentions.0, mid_block.resnets.1]\n");
        var resolved = SpecResolver.Resolve(overlay, name => name == "toy.unet.yaml" ? baseResult : null);
        var layout = LayoutBuilder.BuildOrThrow(resolved.GetSpecOrThrow(), "toy-pruned.unet.yaml");
        var full = LayoutBuilder.BuildOrThrow(baseResult.Spec!, "toy.unet.yaml");

        Assert.Equal("ToyPruned", layout.Spec.Name);
        var removedParams = full.Components.Where(c => c.Id is "down_blocks.0.attentions.0" or "mid_block.resnets.1").Sum(c => c.ParamCount);
        Assert.Equal(full.TotalParamCount - removedParams, layout.TotalParamCount);
        Assert.DoesNotContain(layout.LiveKeys, k => k.Name.StartsWith("mid_block.resnets.1.", StringComparison.Ordinal));

        var missing = SpecResolver.Resolve(overlay, _ => null);
        Assert.Equal(SpecDiagnosticIds.BaseNotFound, Assert.Single(missing.Diagnostics).Id);
    }

    [Fact]
    public void WriterRoundTripsTheShippedSpecs()
    {
        foreach (var file in Directory.GetFiles(RepoPaths.Models, "*.unet.yaml"))
        {
            var spec = SpecParser.Parse(file, File.ReadAllText(file)).Spec;
            if (spec?.Base != null) continue;
            var again = SpecParser.Parse("again.unet.yaml", SpecWriter.Write(spec!));
            Assert.Empty(again.Diagnostics);
            var a = LayoutBuilder.BuildOrThrow(spec!, file);
            var b = LayoutBuilder.BuildOrThrow(again.Spec!, "again");
            Assert.Equal(a.StateDictKeys, b.StateDictKeys);
            Assert.Equal(a.Components.Select(c => (c.Id, c.Prunable)), b.Components.Select(c => (c.Id, c.Prunable)));
        }
    }
}
