using System.Collections;
using System.Reflection;
using LaptopDiff.Spec;
using static LaptopDiff.Generators.Tests.GeneratorHarness;

namespace LaptopDiff.Generators.Tests;

/// <summary>A pruned spec (base + removed) compiles to a class whose removed units do not exist at all.</summary>
public class PrunedSpecTests
{
    // tiny-sd15 units: down_blocks.0.attentions.1 has 23,200 params, mid_block.resnets.1 82,368, up_blocks.1.resnets.2 34,112
    private const string Overlay = """
        # pruned by hand for the test
        base: tiny-sd15.unet.yaml
        name: TinySd15Pruned
        description: "tiny-sd15 without three units"
        removed:
          - down_blocks.0.attentions.1
          - mid_block.resnets.1
          - up_blocks.1.resnets.2
        provenance: { method: "by hand", ratio: 0.126 }
        """;

    private static readonly string[] RemovedIds = { "down_blocks.0.attentions.1", "mid_block.resnets.1", "up_blocks.1.resnets.2" };

    private static object? Get(Type type, string member) =>
        type.GetField(member, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
        ?? type.GetProperty(member, BindingFlags.Public | BindingFlags.Static)!.GetValue(null);

    [Fact]
    public void RemovedUnitsAreAbsentAndTheirParametersSubtracted()
    {
        var run = Run(Shipped("tiny-sd15.unet.yaml"), Yaml("tiny-sd15-pruned.unet.yaml", Overlay));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.GeneratedCodeProblems());
        var source = run.Source("TinySd15Pruned.g.cs");

        Assert.Contains("public const long TotalParamCount = 966532L;", source);   // 1,106,212 - 139,680
        Assert.Contains("public const long BaseParamCount = 1106212L;", source);
        Assert.Contains("public const long UnitCount = 15L;", source);
        Assert.Contains("public const long PrunableUnitCount = 13L;", source);
        Assert.Contains("/// Pruned from <c>tiny-sd15.unet.yaml</c> (1,106,212 parameters): 3 units with 139,680 parameters (12.6 %) removed.", source);
        Assert.Contains("/// <item><c>mid_block.resnets.1</c></item>", source);
        // removed units have no member, enum value or table row; only the layout data (the full model's components) names them
        var code = source.Split("/// The layout as data")[0];
        Assert.DoesNotContain("MidResnet1", code);
        Assert.DoesNotContain("mid_block_resnets_1", code);
        Assert.DoesNotContain("\"mid_block.resnets.1\"", code);
        Assert.Contains("Removed = global::LaptopDiff.Spec.EquatableArray.Of(\"down_blocks.0.attentions.1\", \"mid_block.resnets.1\", \"up_blocks.1.resnets.2\"),", source);

        var type = run.Load().GetType("LaptopDiff.Models.TinySd15Pruned")!;
        var members = Enum.GetNames(type.GetNestedType("Unit")!);
        Assert.Equal(15, members.Length);
        Assert.DoesNotContain("Down0Attention1", members);
        Assert.DoesNotContain("Up1Resnet2", members);
        Assert.Contains("MidResnet0", members);

        var table = ((IEnumerable)Get(type, "LayerTable")!).Cast<LayerInfo>().ToList();
        Assert.DoesNotContain(table, r => RemovedIds.Contains(r.Id));
        Assert.Equal(966532L, table.Sum(r => r.ParamCount));

        // the layout data is the merged full spec with its removals, as the runtime resolves the overlay file
        var layout = (UNetLayout)Get(type, "SpecLayout")!;
        Assert.Equal("tiny-sd15.unet.yaml", layout.Spec.Base);
        Assert.Equal(966532L, layout.TotalParamCount);
        Assert.Equal(1106212L, layout.BaseParamCount);
        Assert.Equal(RemovedIds, layout.Removed);
        Assert.Equal("TinySd15Pruned", layout.Spec.Name);
        Assert.Equal("tiny-sd15 without three units", layout.Spec.Description);
        Assert.Equal("by hand", layout.Spec.Provenance!.Method);
    }

    [Fact]
    public void TransformerBlockGranularityKeepsTheShellOfAPrunedTransformer()
    {
        var overlay = "base: tiny-sdxl.unet.yaml\nname: TinySdxlPruned\nremoved: [down_blocks.2.attentions.0.transformer_blocks.1, up_blocks.0.resnets.1]\n";
        var run = Run(Shipped("tiny-sdxl.unet.yaml"), Yaml("tiny-sdxl-pruned.unet.yaml", overlay));
        Assert.Empty(run.Diagnostics);
        var type = run.Load().GetType("LaptopDiff.Models.TinySdxlPruned")!;
        var baseType = run.Output.GetTypeByMetadataName("LaptopDiff.Models.TinySdxlUNet");
        Assert.NotNull(baseType);

        var table = ((IEnumerable)Get(type, "LayerTable")!).Cast<LayerInfo>().ToDictionary(r => r.Id);
        Assert.False(table.ContainsKey("down_blocks.2.attentions.0.transformer_blocks.1"));
        Assert.True(table.ContainsKey("down_blocks.2.attentions.0.transformer_blocks.0"));
        var shell = table["down_blocks.2.attentions.0"];
        Assert.Equal(("Transformer", false, false), (shell.Kind, shell.IsUnit, shell.Prunable));

        var full = LayoutBuilder.BuildOrThrow(SpecParser.Parse("t", File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sdxl.unet.yaml"))).GetSpecOrThrow(), "t");
        long removed = full.Components.Where(c => c.Id is "down_blocks.2.attentions.0.transformer_blocks.1" or "up_blocks.0.resnets.1").Sum(c => c.ParamCount);
        Assert.True(removed > 0);
        Assert.Equal(2984580L - removed, Get(type, "TotalParamCount"));
        Assert.Equal(2984580L, Get(type, "BaseParamCount"));
    }

    [Fact]
    public void BaseFoundInTheSameFolderFirst()
    {
        var other = File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sd15.unet.yaml")).Replace("name: TinySd15UNet", "name: OtherTiny");
        var run = Run(
            new InMemoryText("/a/tiny-sd15.unet.yaml", other),
            new InMemoryText("/b/tiny-sd15.unet.yaml", File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sd15.unet.yaml"))),
            new InMemoryText("/b/pruned.unet.yaml", "base: tiny-sd15.unet.yaml\nname: P\nremoved: [mid_block.resnets.1]\n"));
        Assert.Empty(run.Diagnostics);
        Assert.Contains("/// Pruned from <c>tiny-sd15.unet.yaml</c>", run.Source("P.g.cs"));
        Assert.Contains("Base = \"tiny-sd15.unet.yaml\",", run.Source("P.g.cs"));
    }

    [Fact]
    public void PresetOverlayThatCutsTheMidBlockCompilesWithoutTheMidAttention()
    {
        var full = LayoutBuilder.BuildOrThrow(SpecParser.Parse("tiny-sdxl.unet.yaml", File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sdxl.unet.yaml"))).GetSpecOrThrow(), "tiny-sdxl.unet.yaml");
        var selection = PruningPresets.TryApply(PruningPresets.Ssd1b, full, out var reason) ?? throw new InvalidOperationException(reason);
        var overlay = PrunedSpecBuilder.BuildPreset(full, "tiny-sdxl.unet.yaml", selection, "2026-11-26", "TinySsd1b");
        var run = Run(Shipped("tiny-sdxl.unet.yaml"), Yaml("tiny-sdxl.ssd-1b.unet.yaml", overlay));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.GeneratedCodeProblems());
        var source = run.Source("TinySsd1b.g.cs");
        Assert.Contains($"public const long TotalParamCount = {selection.RemainingParams}L;", source);
        Assert.DoesNotContain("\"mid_block.attentions.0", source);
        Assert.DoesNotContain("\"mid_block.resnets.1\"", source);
        var members = Enum.GetNames(run.Load().GetType("LaptopDiff.Models.TinySsd1b")!.GetNestedType("Unit")!);
        Assert.Contains("MidResnet0", members);
        Assert.DoesNotContain(members, m => m.StartsWith("MidAttention", StringComparison.Ordinal) || m == "MidResnet1");
    }
}
