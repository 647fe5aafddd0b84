using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Clip;

/// <summary>CLIP text encoders against transformers' outputs in the sd-pipelines fixtures (relative L2 &lt;= 1e-5).</summary>
public sealed class ClipTextModelTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData("sd15-structure/text_encoder/config.json", 123_060_480L)]        // CLIP ViT-L/14 text
    [InlineData("sdxl-structure/text_encoder/config.json", 123_060_480L)]
    [InlineData("sdxl-structure/text_encoder_2/config.json", 694_659_840L)]      // OpenCLIP bigG text with projection
    public void Real_configs_give_the_reference_parameter_counts(string config, long expected)
    {
        var parsed = ClipTextConfig.Load(ClipFixtures.Folder($"configs/{config}"));
        Assert.Equal(expected, parsed.ParamCount);
    }

    [Theory]
    [InlineData("tiny-sd15-pipe/text_encoder", false)]
    [InlineData("tiny-sdxl-pipe/text_encoder_2", true)]
    public void Parameter_count_equals_the_built_model(string folder, bool withProjection)
    {
        var config = ClipTextConfig.Load(ClipFixtures.Folder($"{folder}/config.json"));
        Assert.Equal(withProjection, config.WithProjection);
        using var model = new ClipTextModel(config);
        Assert.Equal(model.parameters().Sum(p => p.numel()), config.ParamCount);
    }

    [Theory]
    [InlineData("tiny-sd15-pipe")]
    [InlineData("tiny-sdxl-pipe")]
    public void Text_encoder_matches_last_hidden_state_and_penultimate(string pipe)
    {
        using var scope = NewDisposeScope();
        var reference = ClipFixtures.Tensors($"{pipe}.io.safetensors");
        using var model = ClipTextModel.Load(ClipFixtures.Folder($"{pipe}/text_encoder"));
        using var _ = no_grad();
        using var output = model.forward(reference["te.input_ids"]);
        Assert.Null(output.TextEmbeds);
        Assert.Equal(3, output.HiddenStates.Count);                              // embeddings + 2 layers
        Check("te.last_hidden_state", output.LastHiddenState, reference);
        Check("te.penultimate", output.HiddenStates[^2], reference);
        Check("te.last_hidden_state (clip skip none)", ClipSkip.StableDiffusion(model, output, null), reference["te.last_hidden_state"]);
        Check("te.last_hidden_state (clip skip 0)", ClipSkip.StableDiffusion(model, output, 0), reference["te.last_hidden_state"]);
        Check("te.penultimate (SDXL default)", ClipSkip.StableDiffusionXl(output, null), reference["te.penultimate"]);
        // SD's clip skip 1 is the final LayerNorm of the penultimate hidden state.
        Check("clip skip 1", ClipSkip.StableDiffusion(model, output, 1), model.FinalLayerNorm(reference["te.penultimate"]));
        Check("SDXL clip skip 1", ClipSkip.StableDiffusionXl(output, 1), output.HiddenStates[0]);
        Assert.Throws<InputException>(() => ClipSkip.StableDiffusion(model, output, 3));
        Assert.Throws<InputException>(() => ClipSkip.StableDiffusionXl(output, 2));
        Assert.Throws<InputException>(() => ClipSkip.StableDiffusion(model, output, -1));
    }

    [Fact]
    public void Projected_gelu_encoder_matches_penultimate_and_text_embeds()
    {
        using var scope = NewDisposeScope();
        var reference = ClipFixtures.Tensors("tiny-sdxl-pipe.io.safetensors");
        using var model = ClipTextModel.Load(ClipFixtures.Folder("tiny-sdxl-pipe/text_encoder_2"));
        Assert.Equal(ClipActivation.Gelu, model.Config.HiddenAct);
        using var _ = no_grad();
        using var output = model.forward(reference["te2.input_ids"]);
        Check("te2.penultimate", output.HiddenStates[^2], reference);
        Check("te2.text_embeds", output.TextEmbeds!, reference);
    }

    [Fact]
    public void Pooling_follows_the_legacy_and_the_current_eos_rule()
    {
        // A textual-inversion token (49410) above the end token: argmax finds it, the eos rule finds the end token.
        using var ids = tensor(new long[] { 49406, 49410, 49407, 49407, 49406, 320, 49407, 0 }, [2, 4]);
        Assert.Equal([1L, 2L], ClipPooling.EndTokenPositions(ids, ClipPooling.LegacyEosTokenId).data<long>().ToArray());
        Assert.Equal([2L, 2L], ClipPooling.EndTokenPositions(ids, 49407).data<long>().ToArray());
    }

    [Fact]
    public void Files_with_or_without_position_ids_load_and_other_extra_keys_do_not()
    {
        var folder = Directory.CreateTempSubdirectory("clip-weights-");
        try
        {
            var source = ClipFixtures.Folder("tiny-sd15-pipe/text_encoder");
            var tensors = SafetensorsFile.Load(Path.Combine(source, "model.safetensors"));
            tensors["text_model.embeddings.position_ids"] = arange(77L).unsqueeze(0);    // as transformers < 4.31 saved it
            var withIds = Path.Combine(folder.FullName, "with-ids.safetensors");
            SafetensorsFile.Save(withIds, tensors);
            tensors["text_model.extra.weight"] = zeros(2);
            var withExtra = Path.Combine(folder.FullName, "with-extra.safetensors");
            SafetensorsFile.Save(withExtra, tensors);

            var config = Path.Combine(source, "config.json");
            var reference = ClipFixtures.Tensors("tiny-sd15-pipe.io.safetensors");
            using (var model = ClipTextModel.Load(config, withIds))
            using (no_grad())
            using (var output = model.forward(reference["te.input_ids"]))
                Check("te.last_hidden_state (file with position_ids)", output.LastHiddenState, reference["te.last_hidden_state"]);
            var error = Assert.Throws<WeightsException>(() => ClipTextModel.Load(config, withExtra));
            Assert.Contains("text_model.extra.weight", error.Message);
            Assert.DoesNotContain("position_ids", error.Message);
            foreach (var t in tensors.Values.Concat(reference.Values)) t.Dispose();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Unsupported_config_values_are_refused_by_name()
    {
        var folder = Directory.CreateTempSubdirectory("clip-config-");
        try
        {
            var path = Path.Combine(folder.FullName, "config.json");
            File.WriteAllText(path, "{\"model_type\": \"clip_text_model\", \"hidden_act\": \"relu\"}");
            Assert.Equal("hidden_act", Assert.Throws<DiffusersConfigException>(() => ClipTextConfig.Load(path)).Option);
            File.WriteAllText(path, "{\"hidden_size\": 48, \"num_attention_heads\": 5}");
            Assert.Equal("num_attention_heads", Assert.Throws<DiffusersConfigException>(() => ClipTextConfig.Load(path)).Option);
            var clipModel = ClipFixtures.Folder("tiny-clip/config.json");
            Assert.Equal("model_type", Assert.Throws<DiffusersConfigException>(() => ClipTextConfig.Load(clipModel)).Option);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private void Check(string name, Tensor actual, Dictionary<string, Tensor> reference) => Check(name, actual, reference[name]);

    private void Check(string name, Tensor actual, Tensor expected)
    {
        double error = ClipFixtures.RelativeL2(actual, expected);
        log.WriteLine($"{name}: relative L2 {error:E2}");
        Assert.True(error <= Tolerance, $"{name}: relative L2 {error:E2} > {Tolerance:E0}");
    }
}
