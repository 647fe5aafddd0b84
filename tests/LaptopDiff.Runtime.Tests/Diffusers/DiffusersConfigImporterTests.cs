using LaptopDiff.Tests.Shared;
using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Diffusers;

public class DiffusersConfigImporterTests
{
    [Theory]
    [InlineData("sd15", 859_520_964L)]
    [InlineData("sdxl", 2_567_463_684L)]
    [InlineData("ssd-1b", 1_331_334_404L)]
    [InlineData("bk-sdm-small", 482_346_884L)]
    [InlineData("tiny-sd15", 1_106_212L)]
    [InlineData("tiny-sdxl", 0L)]
    public void ImportedConfigExpandsToDiffusersKeys(string name, long expectedTotal)
    {
        var spec = DiffusersConfigImporter.ImportFile(TestPaths.DiffusersFixture($"{name}.config.json"));
        var layout = LayoutBuilder.BuildOrThrow(spec, name);
        var (keys, total) = KeyListingFile.Read(TestPaths.DiffusersFixture($"{name}.keys.tsv"));

        Assert.Equal(keys, layout.StateDictKeys.Select(k => (k.Name, string.Join(",", k.Shape))).ToList());
        Assert.Equal(total, layout.TotalParamCount);
        if (expectedTotal != 0) Assert.Equal(expectedTotal, layout.TotalParamCount);
    }

    [Theory]
    [InlineData("sd15")]
    [InlineData("sdxl")]
    [InlineData("ssd-1b")]
    public void WrittenSpecParsesBackToTheSameSpec(string name)
    {
        var spec = DiffusersConfigImporter.ImportFile(TestPaths.DiffusersFixture($"{name}.config.json"));
        var yaml = SpecWriter.Write(spec);
        var reparsed = SpecParser.Parse("x.unet.yaml", yaml);

        Assert.Empty(reparsed.Diagnostics);
        Assert.Equal(spec with { Down = default, Up = default, Mid = new MidSpec() }, reparsed.Spec! with { Down = default, Up = default, Mid = new MidSpec() });
        Assert.Equal(spec.Down.Select(s => s with { Source = default }), reparsed.Spec!.Down.Select(s => s with { Source = default }));
        Assert.Equal(spec.Up.Select(s => s with { Source = default }), reparsed.Spec!.Up.Select(s => s with { Source = default }));
        Assert.Equal(spec.Mid with { Source = default }, reparsed.Spec!.Mid with { Source = default });
    }

    [Theory]
    [InlineData("class_embed_type", "\"timestep\"")]
    [InlineData("addition_embed_type", "\"text_image\"")]
    [InlineData("resnet_time_scale_shift", "\"scale_shift\"")]
    [InlineData("mid_block_type", "\"UNetMidBlock2DSimpleCrossAttn\"")]
    [InlineData("time_embedding_type", "\"fourier\"")]
    [InlineData("conv_in_kernel", "7")]
    [InlineData("only_cross_attention", "true")]
    [InlineData("encoder_hid_dim", "1024")]
    public void UnsupportedOptionIsNamed(string option, string value)
    {
        var text = File.ReadAllText(TestPaths.DiffusersFixture("tiny-sd15.config.json"));
        using var doc = JsonDocument.Parse(text);
        var dict = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetRawText());
        dict[option] = value;
        var json = "{" + string.Join(",", dict.Select(kv => $"\"{kv.Key}\": {kv.Value}")) + "}";
        using var edited = JsonDocument.Parse(json);

        var e = Assert.Throws<DiffusersConfigException>(() => DiffusersConfigImporter.Import(edited.RootElement, "edited.json", "X"));
        Assert.Equal(option, e.Option);
        Assert.Contains(option, e.Message);
    }

    [Fact]
    public void UnknownDownBlockTypeIsNamed()
    {
        using var doc = JsonDocument.Parse("""{"block_out_channels":[32,64],"down_block_types":["AttnDownBlock2D","DownBlock2D"],"up_block_types":["UpBlock2D","UpBlock2D"]}""");
        var e = Assert.Throws<DiffusersConfigException>(() => DiffusersConfigImporter.Import(doc.RootElement, "c.json", "X"));
        Assert.Equal("down_block_types", e.Option);
        Assert.Contains("AttnDownBlock2D", e.Message);
    }

    [Theory]
    [InlineData("tiny-sd15.config.json", "TinySd15UNet")]
    [InlineData("ssd-1b.config.json", "Ssd1bUNet")]
    [InlineData("unet.json", "UNet")]
    public void NameComesFromTheFileName(string file, string expected) =>
        Assert.Equal(expected, DiffusersConfigImporter.NameFromFile(file));
}
