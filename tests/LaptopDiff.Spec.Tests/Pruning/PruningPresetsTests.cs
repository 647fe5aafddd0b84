using LaptopDiff.Tests.Shared;

namespace LaptopDiff.Spec.Tests.Pruning;

/// <summary>The handcrafted presets reproduce the published models' sizes (and SSD-1B's keys) exactly, through the pruned-spec YAML too.</summary>
public class PruningPresetsTests
{
    private static PresetSelection Apply(string preset, string specFile)
    {
        var selection = PruningPresets.TryApply(preset, Synthetic.Layout(specFile), out var reason);
        Assert.True(selection != null, reason);
        return selection!;
    }

    /// <summary>The preset's YAML parsed and resolved against its base as the generator and the CLI do.</summary>
    private static UNetLayout ThroughYaml(string specFile, PresetSelection selection)
    {
        var full = Synthetic.Layout(specFile);
        var yaml = PrunedSpecBuilder.BuildPreset(full, specFile, selection, "2026-11-26");
        var overlay = SpecParser.Parse("preset.unet.yaml", yaml);
        Assert.Empty(overlay.Diagnostics);
        var resolved = SpecResolver.Resolve(overlay, name => SpecResolver.BaseFileName(name) == specFile
            ? SpecParser.Parse(specFile, File.ReadAllText(Path.Combine(RepoPaths.Models, specFile))) : null);
        return LayoutBuilder.BuildOrThrow(resolved.GetSpecOrThrow(), "preset.unet.yaml");
    }

    [Theory]
    [InlineData(PruningPresets.BkSdmBase, "sd15.unet.yaml", 579_384_964L)]
    [InlineData(PruningPresets.BkSdmSmall, "sd15.unet.yaml", 482_346_884L)]
    [InlineData(PruningPresets.Ssd1b, "sdxl.unet.yaml", 1_331_334_404L)]
    public void PresetGivesThePublishedSize(string preset, string specFile, long expectedParams)
    {
        var selection = Apply(preset, specFile);
        Assert.Equal(expectedParams, selection.RemainingParams);
        Assert.Equal(selection.BaseParams - expectedParams, selection.RemovedParams);

        var pruned = ThroughYaml(specFile, selection);
        Assert.Equal(expectedParams, pruned.TotalParamCount);
        Assert.Equal(new ProvenanceSpec { Method = "preset " + preset, Ratio = Math.Round(selection.AchievedRatio, 6), Date = "2026-11-26" }, pruned.Spec.Provenance);
    }

    [Fact]
    public void BkSdmSmallHasBkSdmSmallsTensorsUpToTheUpStagesHoles()
    {
        // BK-SDM-Small renumbers its up layers (resnets.0, resnets.1); our student keeps the teacher's names
        // (resnets.0, resnets.2), so compare the shapes as a multiset and the names where no hole is involved
        var pruned = Apply(PruningPresets.BkSdmSmall, "sd15.unet.yaml").Layout;
        var (keys, total) = KeyListingFile.Read(Path.Combine(RepoPaths.Fixtures, "bk-sdm-small.keys.tsv"));
        var live = pruned.LiveKeys.ToList();
        Assert.Equal(total, pruned.TotalParamCount);
        Assert.Equal(keys.Select(k => k.Shape).OrderBy(s => s, StringComparer.Ordinal),
            live.Select(k => string.Join(",", k.Shape)).OrderBy(s => s, StringComparer.Ordinal));
        Assert.Equal(keys.Where(k => !k.Name.StartsWith("up_blocks.", StringComparison.Ordinal)).Select(k => k.Name).OrderBy(n => n, StringComparer.Ordinal),
            live.Where(k => !k.Name.StartsWith("up_blocks.", StringComparison.Ordinal)).Select(k => k.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.DoesNotContain(live, k => k.Name.StartsWith("mid_block.", StringComparison.Ordinal));
    }

    [Fact]
    public void Ssd1bHasExactlySsd1bsKeys()
    {
        var selection = Apply(PruningPresets.Ssd1b, "sdxl.unet.yaml");
        var (keys, total) = KeyListingFile.Read(Path.Combine(RepoPaths.Fixtures, "ssd-1b.keys.tsv"));
        foreach (var layout in new[] { selection.Layout, ThroughYaml("sdxl.unet.yaml", selection) })
        {
            Assert.Equal(total, layout.TotalParamCount);
            Assert.Equal(keys.OrderBy(k => k.Name, StringComparer.Ordinal),
                layout.LiveKeys.Select(k => (k.Name, string.Join(",", k.Shape))).OrderBy(k => k.Item1, StringComparer.Ordinal));
        }
        Assert.Equal(MidKind.Resnet, selection.MidReduction);
        Assert.DoesNotContain(selection.Removed, id => id.StartsWith("mid_block.", StringComparison.Ordinal));   // the mid is structure, not removed units
    }

    [Fact]
    public void PresetsAreRulesThatApplyToSmallSpecsOfTheSameShape()
    {
        // tiny-sd15: down stages of 2 layers, up stages of 3; the pairs are every layer-1 unit of a stage
        var tiny = Synthetic.Layout("tiny-sd15.unet.yaml");
        var bkBase = Apply(PruningPresets.BkSdmBase, "tiny-sd15.unet.yaml");
        var expected = tiny.Units.Where(u => u.Layer == 1 && u.Stage != StageId.Mid).Select(u => u.Id).ToList();
        Assert.Equal(new[] { "down_blocks.0.resnets.1", "down_blocks.0.attentions.1", "down_blocks.1.resnets.1",
            "up_blocks.0.resnets.1", "up_blocks.1.resnets.1", "up_blocks.1.attentions.1" }, bkBase.Removed);
        Assert.Equal(expected, bkBase.Removed);
        Assert.Equal(tiny.TotalParamCount - tiny.Units.Where(u => expected.Contains(u.Id)).Sum(u => u.ParamCount), bkBase.RemainingParams);
        var bkSmall = Apply(PruningPresets.BkSdmSmall, "tiny-sd15.unet.yaml");
        Assert.Equal(bkBase.Removed.Concat(new[] { "mid_block.resnets.0", "mid_block.attentions.0", "mid_block.resnets.1" }).OrderBy(x => x, StringComparer.Ordinal),
            bkSmall.Removed.OrderBy(x => x, StringComparer.Ordinal));

        // tiny-sdxl: depths down [1, 2], up [2, 1]: keeps ceil(depth x SSD-1B/SDXL), at least one block each
        var ssd = Apply(PruningPresets.Ssd1b, "tiny-sdxl.unet.yaml");
        Assert.Equal(new[]
        {
            "down_blocks.2.attentions.0.transformer_blocks.1", "down_blocks.2.attentions.1.transformer_blocks.1",
            "up_blocks.0.attentions.0.transformer_blocks.1", "up_blocks.0.attentions.1.transformer_blocks.1",
        }, ssd.Removed);
        Assert.DoesNotContain(ssd.Layout.LiveKeys, k => k.Name.StartsWith("mid_block.attentions", StringComparison.Ordinal) || k.Name.StartsWith("mid_block.resnets.1", StringComparison.Ordinal));
        Assert.Contains(ssd.Layout.LiveKeys, k => k.Name.StartsWith("mid_block.resnets.0.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(PruningPresets.BkSdmBase, "sdxl.unet.yaml", "granularity transformer_block")]
    [InlineData(PruningPresets.BkSdmSmall, "tiny-sdxl.unet.yaml", "granularity transformer_block")]
    [InlineData(PruningPresets.Ssd1b, "sd15.unet.yaml", "granularity transformer")]
    [InlineData(PruningPresets.Ssd1b, "tiny-sd15.unet.yaml", "granularity transformer")]
    public void PresetOfTheWrongFamilySaysWhy(string preset, string specFile, string expected)
    {
        Assert.Null(PruningPresets.TryApply(preset, Synthetic.Layout(specFile), out var reason));
        Assert.Contains(expected, reason);
    }

    [Fact]
    public void PresetNeedsTheStageShapeAndTheMidBlock()
    {
        var sd15 = Synthetic.Layout("sd15.unet.yaml");
        var threeLayers = LayoutBuilder.BuildOrThrow(sd15.Spec with { Down = sd15.Spec.Down.Select(s => s with { Layers = 3, TransformerDepth = new[] { 1, 1, 1 }.ToEquatableArray() }).ToEquatableArray(),
            Up = sd15.Spec.Up.Select(s => s with { Layers = 4, TransformerDepth = new[] { 1, 1, 1, 1 }.ToEquatableArray() }).ToEquatableArray() }, "x");
        Assert.Null(PruningPresets.TryApply(PruningPresets.BkSdmBase, threeLayers, out var reason));
        Assert.Contains("2 layers per down stage, 3 per up stage", reason);

        var noMid = LayoutBuilder.BuildOrThrow(sd15.Spec with { Mid = new MidSpec { Kind = MidKind.None } }, "x");
        Assert.NotNull(PruningPresets.TryApply(PruningPresets.BkSdmBase, noMid, out _));
        Assert.Null(PruningPresets.TryApply(PruningPresets.BkSdmSmall, noMid, out reason));
        Assert.Contains("has none", reason);

        var pinned = LayoutBuilder.BuildOrThrow(sd15.Spec with { Pinned = new[] { "down_blocks.1.attentions.1" }.ToEquatableArray() }, "x");
        Assert.Null(PruningPresets.TryApply(PruningPresets.BkSdmBase, pinned, out reason));
        Assert.Contains("down_blocks.1.attentions.1, which is not prunable", reason);

        Assert.Throws<ArgumentException>(() => PruningPresets.TryApply("bk-sdm-tiny", sd15, out _));
    }

    [Theory]
    [InlineData("cross_attn", "can only be cut down")]
    [InlineData("sideways", "can only be cut down")]
    public void OverlayMidMustBeAReduction(string type, string expected)
    {
        var overlay = SpecParser.Parse("x.unet.yaml", $"base: sd15.unet.yaml\nname: X\nmid: {{ type: {type} }}\nremoved: []\n");
        Assert.Contains(overlay.Diagnostics, d => d.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void OverlayMidCannotGrowTheBasesMid()
    {
        var resnetMid = SpecParser.Parse("b.unet.yaml", File.ReadAllText(Path.Combine(RepoPaths.Models, "sd15.unet.yaml"))
            .Replace("mid: { type: cross_attn, heads: 8, transformer_depth: 1 }", "mid: { type: resnet }"));
        Assert.Empty(resnetMid.Diagnostics);
        var overlay = SpecParser.Parse("x.unet.yaml", "base: b.unet.yaml\nname: X\nmid: { type: resnet }\nremoved: []\n");
        var resolved = SpecResolver.Resolve(overlay, _ => resnetMid);
        var d = Assert.Single(resolved.Diagnostics);
        Assert.Equal(SpecDiagnosticIds.InvalidValue, d.Id);
        Assert.Contains("does not cut down the base's mid block (resnet)", d.Message);
        Assert.Equal(3, d.Span.Line);
    }
}
