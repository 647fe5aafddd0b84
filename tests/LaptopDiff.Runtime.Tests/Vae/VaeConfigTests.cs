using System.Text.Json;
using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Tests.Vae;

public sealed class VaeConfigTests
{
    private static string Structure(string name) => Path.Combine(TestPaths.SdPipelines, "configs", name, "vae", "config.json");

    [Theory]
    [InlineData("sd15-structure", 0.18215, false)]
    [InlineData("sdxl-structure", 0.13025, true)]
    public void Real_sd_vae_configs_count_83_653_863_parameters(string structure, double scaling, bool forceUpcast)
    {
        var config = VaeConfigReader.ReadFile(Structure(structure));

        Assert.Equal(83_653_863L, config.ParamCount());
        Assert.Equal([128, 256, 512, 512], config.BlockOutChannels);
        Assert.Equal(2, config.LayersPerBlock);
        Assert.Equal(32, config.NormGroups);
        Assert.Equal(8, config.DownscaleFactor);
        Assert.Equal(scaling, config.ScalingFactor);
        Assert.Null(config.ShiftFactor);
        Assert.Equal(forceUpcast, config.ForceUpcast);
        Assert.True(config.UseQuantConv && config.UsePostQuantConv && config.MidBlockAttention);   // diffusers' defaults
    }

    [Theory]
    [InlineData(TinyVaes.Sd15, 0.18215, false)]
    [InlineData(TinyVaes.Sdxl, 0.13025, true)]
    public void Tiny_configs_count_what_the_module_allocates_and_the_file_holds(string pipeline, double scaling, bool forceUpcast)
    {
        var config = VaeConfigReader.ReadFile(TinyVaes.ConfigPath(pipeline));
        using var vae = new AutoencoderKL(config);
        var header = SafetensorsFile.ReadHeader(TinyVaes.WeightsPath(pipeline));

        Assert.Equal(316_695L, config.ParamCount());
        Assert.Equal(config.ParamCount(), vae.parameters().Sum(p => p.numel()));
        Assert.Equal(config.ParamCount(), header.Entries.Sum(e => e.Shape.Aggregate(1L, (a, d) => a * d)));
        Assert.Equal(scaling, config.ScalingFactor);
        Assert.Equal(forceUpcast, config.ForceUpcast);
    }

    [Theory]
    [InlineData("mid_block_add_attention", false)]
    [InlineData("use_quant_conv", false)]
    [InlineData("use_post_quant_conv", false)]
    public void Optional_layers_leave_the_count_and_the_module_together(string option, bool value)
    {
        var config = Read(Tiny(o => o[option] = value));
        using var vae = new AutoencoderKL(config);

        Assert.True(config.ParamCount() < 316_695L);
        Assert.Equal(config.ParamCount(), vae.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Defaults_are_diffusers_autoencoder_kl_defaults()
    {
        var config = Read(new JsonObject());

        Assert.Equal([64], config.BlockOutChannels);
        Assert.Equal((3, 3, 1, 4, 32, 32), (config.InChannels, config.OutChannels, config.LayersPerBlock, config.LatentChannels, config.NormGroups, config.SampleSize));
        Assert.Equal(0.18215, config.ScalingFactor);
        Assert.True(config.ForceUpcast);
    }

    [Fact]
    public void Shift_factor_and_swish_are_read()
    {
        var config = Read(Tiny(o => { o["shift_factor"] = 0.0609; o["act_fn"] = "swish"; }));
        Assert.Equal(0.0609, config.ShiftFactor);
    }

    [Theory]
    [InlineData("act_fn", "\"gelu\"", "gelu")]
    [InlineData("down_block_types", "[\"DownEncoderBlock2D\",\"AttnDownEncoderBlock2D\",\"DownEncoderBlock2D\",\"DownEncoderBlock2D\"]", "AttnDownEncoderBlock2D")]
    [InlineData("up_block_types", "[\"UpDecoderBlock2D\",\"UpDecoderBlock2D\",\"UpDecoderBlock2D\"]", "one entry per block_out_channels entry (4)")]
    [InlineData("_class_name", "\"AutoencoderTiny\"", "AutoencoderTiny")]
    [InlineData("latents_mean", "[0.1, 0.2, 0.3, 0.4]", "latents_std / scaling_factor + latents_mean")]
    [InlineData("latents_std", "[1, 1, 1, 1]", "per-channel latent statistics")]
    [InlineData("norm_num_groups", "3", "16 is not a multiple")]
    [InlineData("scaling_factor", "0", "positive number")]
    [InlineData("layers_per_block", "\"two\"", "expected an integer")]
    public void Unsupported_options_are_named_with_file_and_value(string option, string json, string expected)
    {
        var path = Path.Combine(Path.GetTempPath(), $"vae-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, Tiny(o => o[option] = JsonNode.Parse(json)).ToJsonString());
        try
        {
            var e = Assert.Throws<DiffusersConfigException>(() => VaeConfigReader.ReadFile(path));
            Assert.Equal(option, e.Option);
            Assert.Equal(path, e.Path);
            Assert.Contains(path, e.Message);
            Assert.Contains(option, e.Message);
            Assert.Contains(expected, e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Invalid_json_names_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vae-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{ \"in_channels\": ");
        try { Assert.Contains(path, Assert.Throws<DiffusersConfigException>(() => VaeConfigReader.ReadFile(path)).Message); }
        finally { File.Delete(path); }
    }

    private static JsonObject Tiny(Action<JsonObject> edit)
    {
        var o = JsonNode.Parse(File.ReadAllText(TinyVaes.ConfigPath(TinyVaes.Sd15)))!.AsObject();
        edit(o);
        return o;
    }

    private static VaeConfig Read(JsonObject o)
    {
        using var doc = JsonDocument.Parse(o.ToJsonString());
        return VaeConfigReader.Read(doc.RootElement, "vae/config.json");
    }
}
