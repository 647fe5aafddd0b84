using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Cli;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using LaptopDiff.Tests.Shared;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Diffusers;

/// <summary>
/// Pruned models as diffusers folders: the handcrafted presets reproduce the published BK-SDM-Small and SSD-1B
/// configs and key lists, an export reloads (through the diffusers importer) to the same function, and a structure
/// diffusers cannot express is refused with the reason.
/// </summary>
public class DiffusersExportTests
{
    private static readonly string[] StructureFields =
    [
        "down_block_types", "up_block_types", "block_out_channels", "layers_per_block", "mid_block_type", "attention_head_dim",
        "transformer_layers_per_block", "reverse_transformer_layers_per_block", "cross_attention_dim", "use_linear_projection",
        "addition_time_embed_dim", "projection_class_embeddings_input_dim",
    ];

    [Theory]
    [InlineData("sd15", "bk-sdm-small", "bk-sdm-small")]
    [InlineData("sdxl", "ssd-1b", "ssd-1b")]
    public void PresetExportsThePublishedModelsConfigAndKeys(string spec, string preset, string fixture)
    {
        using var temp = new TempFolder();
        File.Copy(Path.Combine(TestPaths.RepoRoot, "models", $"{spec}.unet.yaml"), temp.File($"{spec}.unet.yaml"));
        var (code, _, error) = CliRunner.Run("prune", "--preset", preset, "--spec", temp.File($"{spec}.unet.yaml"), "--output", temp.File("pruned.unet.yaml"));
        Assert.True(code == 0, error);
        var layout = SpecFiles.LoadLayout(temp.File("pruned.unet.yaml"));

        var plan = DiffusersExportPlan.TryCreate(layout, out var reason);
        Assert.True(plan != null, reason);
        var published = JsonNode.Parse(File.ReadAllText(TestPaths.DiffusersFixture($"{fixture}.config.json")))!.AsObject();
        int stages = published["block_out_channels"]!.AsArray().Count;
        foreach (var field in StructureFields.Where(f => published.ContainsKey(f) || plan!.Config.ContainsKey(f)))
            Assert.True(Normalized(published[field], stages) == Normalized(plan!.Config[field], stages),
                $"{field}: published {published[field]?.ToJsonString()}, exported {plan!.Config[field]?.ToJsonString()}");

        var (keys, _) = KeyListingFile.Read(TestPaths.DiffusersFixture($"{fixture}.keys.tsv"));
        Assert.Equal(keys.Select(k => k.Name).Order(StringComparer.Ordinal),
            layout.LiveKeys.Select(k => plan!.Rename(k.Name)).Order(StringComparer.Ordinal));
    }

    [Theory]
    // BK-SDM's pattern on the SD-1.5 fixture: a down layer (ResNet + transformer) and the up layer that read its skip
    [InlineData(TinyUNets.Sd15, PruneGranularity.Transformer, new[] { "down_blocks.0.resnets.1", "down_blocks.0.attentions.1", "up_blocks.1.resnets.1", "up_blocks.1.attentions.1" })]
    // on the SDXL fixture at block granularity: a plain pair, transformer blocks (survivors renumbered; per-layer depths),
    // the mid transformer's second block with the first layer's of the last down stage (diffusers ties the two)
    [InlineData(TinyUNets.Sdxl, PruneGranularity.TransformerBlock, new[] { "down_blocks.0.resnets.1", "up_blocks.2.resnets.1", "up_blocks.0.attentions.1.transformer_blocks.0",
        "down_blocks.2.attentions.0.transformer_blocks.0", "mid_block.attentions.0.transformer_blocks.1" })]
    public void ExportReloadsThroughTheImporterToTheSameFunction(string fixture, PruneGranularity granularity, string[] removed)
    {
        using var temp = new TempFolder();
        using var student = TinyUNets.Load(fixture, granularity, removed);
        WeightLoader.Save(student, temp.File("student.safetensors"));
        var layout = TinyUNets.Layout(fixture, granularity, removed);

        Assert.True(DiffusersExporter.TryExport(layout, temp.File("student.safetensors"), temp.File("diffusers"), out var reason), reason);
        var imported = SpecFiles.LoadLayout(temp.File(Path.Combine("diffusers", DiffusersExporter.ConfigFile)));
        Assert.Equal(layout.TotalParamCount, imported.TotalParamCount);
        using var reloaded = new UNet2DCondition(imported);
        WeightLoader.Load(reloaded, temp.File(Path.Combine("diffusers", DiffusersExporter.WeightsFile)), strict: true);
        reloaded.eval();

        var inputs = TinyUNets.Inputs(fixture);
        using var mode = inference_mode();
        Close.Same(reloaded.forward(inputs).Sample, student.forward(inputs).Sample, "exported diffusers model vs the pruned student");
    }

    [Theory]
    [InlineData(new[] { "down_blocks.0.resnets.1", "down_blocks.0.attentions.1" }, "up_blocks.1 keeps layers reading")]
    [InlineData(new[] { "up_blocks.1.resnets.1" }, "up_blocks.1.resnets.1 is removed but up_blocks.1.attentions.1 is kept")]
    [InlineData(new[] { "down_blocks.0.attentions.1" }, "down_blocks.0 keeps transformers on some layers only")]
    [InlineData(new[] { "mid_block.attentions.0" }, "the mid block keeps its first ResNet, its second ResNet")]
    [InlineData(new[] { "mid_block.resnets.1" }, "the mid block keeps its first ResNet, its transformer")]
    public void UnexpressibleStructureIsRefusedWithTheReason(string[] removed, string expected)
    {
        var layout = TinyUNets.Layout(TinyUNets.Sd15, PruneGranularity.Transformer, removed);
        Assert.Null(DiffusersExportPlan.TryCreate(layout, out var reason));
        Assert.Contains(expected, reason);

        using var temp = new TempFolder();
        Assert.False(DiffusersExporter.TryExport(layout, temp.File("none.safetensors"), temp.File("diffusers"), out _));
        Assert.False(Directory.Exists(temp.File("diffusers")));
    }

    [Fact]
    public void CliExportsAPresetStudentAndPrintsTheConfig()
    {
        using var temp = new TempFolder();
        File.Copy(Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml"), temp.File("tiny-sd15.unet.yaml"));
        var (code, _, error) = CliRunner.Run("prune", "--preset", "bk-sdm-small", "--spec", temp.File("tiny-sd15.unet.yaml"), "--output", temp.File("small.unet.yaml"),
            "--weights", TestPaths.DiffusersFixture("tiny-sd15.safetensors"), "--student-weights", temp.File("small.safetensors"));
        Assert.True(code == 0, error);
        (code, var stdout, error) = CliRunner.Run("export-diffusers", "--spec", temp.File("small.unet.yaml"), "--weights", temp.File("small.safetensors"), "--output", temp.File("out"), "--json");
        Assert.True(code == 0, error);

        var json = JsonNode.Parse(stdout)!;
        Assert.Equal(1, (int)json["config"]!["layers_per_block"]!);
        Assert.Null(json["config"]!["mid_block_type"]);
        Assert.True((int)json["renamed"]! > 0);
        var exported = SafetensorsFile.ReadHeader(temp.File(Path.Combine("out", DiffusersExporter.WeightsFile)));
        Assert.Equal(SpecFiles.LoadLayout(temp.File(Path.Combine("out", DiffusersExporter.ConfigFile))).LiveKeys.Select(k => k.Name).Order(StringComparer.Ordinal),
            exported.Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CliRefusesAnUnexpressibleStudentWithExitTwo()
    {
        using var temp = new TempFolder();
        File.Copy(Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml"), temp.File("tiny-sd15.unet.yaml"));
        File.WriteAllText(temp.File("pruned.unet.yaml"), "base: tiny-sd15.unet.yaml\nname: Pruned\nremoved: [up_blocks.1.resnets.1]\n");
        var (code, _, error) = CliRunner.Run("export-diffusers", "--spec", temp.File("pruned.unet.yaml"), "--weights", temp.File("w.safetensors"), "--output", temp.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("has no diffusers equivalent", error);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    /// <summary>A per-stage field as one comparable string: an int stands for the same value in every stage.</summary>
    private static string Normalized(JsonNode? node, int stages) =>
        node is JsonValue v && v.TryGetValue<int>(out var i) ? new JsonArray(Enumerable.Repeat(i, stages).Select(x => (JsonNode?)x).ToArray()).ToJsonString()
        : node?.ToJsonString() ?? "null";
}
