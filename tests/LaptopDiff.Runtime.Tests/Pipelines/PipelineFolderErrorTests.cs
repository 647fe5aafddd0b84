using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Weights;
using static LaptopDiff.Runtime.Tests.Pipelines.PipelineFixtures;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>Fixture folders copied and broken one way each: every problem is an error that names it.</summary>
public sealed class PipelineFolderErrorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Index(string dir) => Path.Combine(dir, "model_index.json");

    [Fact]
    public void A_missing_component_folder_is_named()
    {
        var dir = Copy(_temp, Sd15);
        Directory.Delete(Path.Combine(dir, "vae"), recursive: true);

        var error = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));

        Assert.Equal($"component 'vae' (AutoencoderKL) is listed in model_index.json but the folder {Path.Combine(dir, "vae")} does not exist.", error.Message);
    }

    [Fact]
    public void A_missing_component_config_is_named()
    {
        var dir = Copy(_temp, Sd15);
        File.Delete(Path.Combine(dir, "scheduler", "scheduler_config.json"));

        var error = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));

        Assert.Equal($"component 'scheduler' (PNDMScheduler): its config {Path.Combine(dir, "scheduler", "scheduler_config.json")} does not exist.", error.Message);
    }

    [Fact]
    public void An_unknown_pipeline_class_is_named_with_the_supported_ones()
    {
        var dir = Copy(_temp, Sd15);
        EditIndex(dir, i => i["_class_name"] = "KandinskyPipeline");

        var error = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));

        Assert.Equal($"{Index(dir)}: pipeline class 'KandinskyPipeline' is not supported; LaptopDiff reads StableDiffusionPipeline, StableDiffusionXLPipeline.", error.Message);
    }

    [Fact]
    public void An_sdxl_refiner_folder_is_refused_as_such()
    {
        var dir = Copy(_temp, Sdxl);
        EditIndex(dir, i => i["_class_name"] = "StableDiffusionXLImg2ImgPipeline");
        var refiner = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));
        Assert.Contains("an SDXL refiner folder is a StableDiffusionXLImg2ImgPipeline; LaptopDiff does not run refiners", refiner.Message);

        // a base pipeline class saved without the first encoder, as refiners are
        EditIndex(dir, i => { i["_class_name"] = "StableDiffusionXLPipeline"; i["text_encoder"] = new JsonArray(null, null); });
        var noEncoder = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));
        Assert.Equal($"{Index(dir)}: component 'text_encoder' is [null, null], but a StableDiffusionXLPipeline needs it (transformers CLIPTextModel). " +
                     "Folders without the first text encoder (as SDXL refiners are saved) are not supported.", noEncoder.Message);
    }

    [Fact]
    public void An_unknown_component_class_names_the_component_and_the_class()
    {
        var dir = Copy(_temp, Sd15);
        EditIndex(dir, i => i["unet"] = new JsonArray("diffusers", "UNet2DModel"));

        var error = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));

        Assert.Equal($"{Index(dir)}: component 'unet' is diffusers UNet2DModel, which LaptopDiff does not support there; expected diffusers UNet2DConditionModel.", error.Message);
    }

    [Fact]
    public void The_fast_tokenizer_class_is_read_from_vocab_and_merges()
    {
        var dir = Copy(_temp, Sdxl);
        EditIndex(dir, i => i["tokenizer_2"] = new JsonArray("transformers", "CLIPTokenizerFast"));
        Assert.Equal("CLIPTokenizerFast", PipelineFolder.Open(dir).Tokenizer2!.ClassName);

        // a fast tokenizer saved as tokenizer.json alone is named as such
        var folder = Path.Combine(dir, "tokenizer_2");
        File.Delete(Path.Combine(folder, "merges.txt"));
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), "{}");
        var error = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));
        Assert.Equal($"component 'tokenizer_2' (CLIPTokenizerFast): its folder {folder} has no merges.txt (it has tokenizer.json, which LaptopDiff does not read); " +
                     "LaptopDiff reads CLIP's tokenizer from vocab.json and merges.txt, as transformers' save_pretrained writes them.", error.Message);
        Assert.Equal("unet", PipelineFolder.OpenStructure(dir).UNet.Name);      // inspecting the structure does not need it
    }

    [Fact]
    public void A_scheduler_may_be_any_diffusers_scheduler_but_nothing_else()
    {
        var dir = Copy(_temp, Sd15);
        EditIndex(dir, i => i["scheduler"] = new JsonArray("diffusers", "DPMSolverMultistepScheduler"));
        Assert.Equal("DPMSolverMultistepScheduler", PipelineFolder.Open(dir).Scheduler.ClassName);

        EditIndex(dir, i => i["scheduler"] = new JsonArray("diffusers", "AutoencoderKL"));
        var error = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));
        Assert.Contains("component 'scheduler' is diffusers AutoencoderKL, which LaptopDiff does not support there; " +
                        "expected a diffusers scheduler class (e.g. DDIMScheduler).", error.Message);
    }

    [Fact]
    public void A_required_component_absent_from_the_index_is_named_with_the_required_ones()
    {
        var dir = Copy(_temp, Sdxl);
        EditIndex(dir, i => i.Remove("tokenizer_2"));

        var error = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));

        Assert.Equal($"{Index(dir)} lists no component 'tokenizer_2'; a StableDiffusionXLPipeline needs " +
                     "unet, vae, text_encoder, tokenizer, scheduler, text_encoder_2, tokenizer_2.", error.Message);
    }

    [Fact]
    public void Unknown_entries_and_ill_typed_options_are_named()
    {
        var dir = Copy(_temp, Sd15);
        EditIndex(dir, i => i["controlnet"] = new JsonArray("diffusers", "ControlNetModel"));
        var component = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));
        Assert.StartsWith($"{Index(dir)}: 'controlnet' is not a component or option of StableDiffusionPipeline that LaptopDiff knows", component.Message);

        EditIndex(dir, i => { i.Remove("controlnet"); i["force_zeros_for_empty_prompt"] = true; });
        var option = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));
        Assert.Contains("'force_zeros_for_empty_prompt' is not a component or option of StableDiffusionPipeline", option.Message);
        Assert.Contains("options: requires_safety_checker", option.Message);

        EditIndex(dir, i => { i.Remove("force_zeros_for_empty_prompt"); i["requires_safety_checker"] = "yes"; });
        var typed = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));
        Assert.Equal($"{Index(dir)}: option 'requires_safety_checker' is \"yes\", expected true or false.", typed.Message);

        EditIndex(dir, i => { i["requires_safety_checker"] = false; i["vae"] = new JsonArray("diffusers"); });
        var malformed = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));
        Assert.StartsWith($"{Index(dir)}: component 'vae' is [\"diffusers\"], expected [library, class]", malformed.Message);
    }

    [Fact]
    public void Optional_components_with_a_class_are_listed_as_unused_and_options_read()
    {
        // as the real SD-1.5 folder ships: a safety checker LaptopDiff never runs, its folders absent here
        var dir = Copy(_temp, Sd15);
        EditIndex(dir, i =>
        {
            i["safety_checker"] = new JsonArray("stable_diffusion", "StableDiffusionSafetyChecker");
            i["feature_extractor"] = new JsonArray("transformers", "CLIPImageProcessor");
            i["requires_safety_checker"] = true;
        });

        var pipe = PipelineFolder.Open(dir);

        Assert.Equal(["safety_checker (stable_diffusion StableDiffusionSafetyChecker)", "feature_extractor (transformers CLIPImageProcessor)"],
            pipe.Unused.Select(u => u.ToString()));
        Assert.True(pipe.RequiresSafetyChecker);
    }

    [Fact]
    public void Malformed_json_names_the_file()
    {
        var dir = Copy(_temp, Sd15);
        File.WriteAllText(Index(dir), "{ \"_class_name\": \"StableDiffusionPipeline\", ");

        var error = Assert.Throws<PipelineException>(() => PipelineFolder.Open(dir));

        Assert.StartsWith($"{Index(dir)} is not valid JSON (", error.Message);
    }

    [Fact]
    public void A_folder_without_model_index_or_a_file_is_not_a_pipeline()
    {
        var noIndex = Assert.Throws<PipelineException>(() => PipelineFolder.Open(Path.Combine(Folder(Sd15), "unet")));
        Assert.Equal($"'{Path.Combine(Folder(Sd15), "unet")}' has no model_index.json, so it is not a diffusers pipeline folder. " +
                     "It holds a config.json: it looks like one component's folder; give the pipeline folder that contains it.", noIndex.Message);

        var ckpt = _temp.File("v1-5-pruned.ckpt");
        File.WriteAllBytes(ckpt, [0x80, 0x02]);
        var file = Assert.Throws<PipelineException>(() => PipelineFolder.Open(ckpt));
        Assert.StartsWith($"'{ckpt}' is a file, not a pipeline folder", file.Message);
        Assert.Contains("LaptopDiff never unpickles weights", file.Message);

        var missing = Assert.Throws<PipelineException>(() => PipelineFolder.Open(_temp.File("nowhere")));
        Assert.Equal($"pipeline folder '{_temp.File("nowhere")}' does not exist.", missing.Message);
    }

    [Fact]
    public void Only_pickled_weights_are_refused_without_reading_them()
    {
        var dir = Copy(_temp, Sd15);
        var unet = Path.Combine(dir, "unet");
        File.Delete(Path.Combine(unet, "diffusion_pytorch_model.safetensors"));
        // not even a pickle: opening it in any way would fail differently
        File.WriteAllText(Path.Combine(unet, "diffusion_pytorch_model.bin"), "not a pickle");

        var error = Assert.Throws<WeightsException>(() => PipelineFolder.Open(dir));

        Assert.StartsWith($"'{unet}' holds only pickled weights (diffusion_pytorch_model.bin). LaptopDiff never unpickles weights", error.Message);
        Assert.Contains("can run arbitrary code", error.Message);
        Assert.Contains("safetensors.torch.save_file", error.Message);
    }

    [Fact]
    public void An_asked_variant_that_is_absent_lists_what_exists()
    {
        var dir = Copy(_temp, Sd15);

        var error = Assert.Throws<WeightsException>(() => PipelineFolder.Open(dir, "fp16"));

        Assert.Equal($"'{Path.Combine(dir, "unet")}' has no 'fp16' variant weights (looked for diffusion_pytorch_model.fp16.safetensors or " +
                     "diffusion_pytorch_model.safetensors.index.fp16.json); it has diffusion_pytorch_model.safetensors. " +
                     "Ask for no variant or another one, or get the 'fp16' files.", error.Message);
    }

    [Fact]
    public void An_fp16_variant_folder_opens_with_the_variant_and_loads_into_float32()
    {
        var dir = Copy(_temp, Sd15);
        var unet = Path.Combine(dir, "unet");
        var original = Path.Combine(unet, "diffusion_pytorch_model.safetensors");
        var tensors = SafetensorsFile.Load(original, convertFloatsTo: TorchSharp.torch.ScalarType.Float16);
        SafetensorsFile.Save(Path.Combine(unet, "diffusion_pytorch_model.fp16.safetensors"), tensors);
        File.Delete(original);

        var plain = Assert.Throws<WeightsException>(() => PipelineFolder.Open(dir));
        Assert.Equal($"'{unet}' has no diffusion_pytorch_model.safetensors or diffusion_pytorch_model.safetensors.index.json; " +
                     "it has diffusion_pytorch_model.fp16.safetensors. Ask for the variant 'fp16' to use those.", plain.Message);

        // the other components have no fp16 files: with a variant, each model folder must have it
        foreach (var other in new[] { "vae", "text_encoder" })
        {
            var folder = Path.Combine(dir, other);
            var file = Directory.GetFiles(folder, "*.safetensors").Single();
            File.Move(file, file.Replace(".safetensors", ".fp16.safetensors"));
        }
        var pipe = PipelineFolder.Open(dir, "fp16");
        Assert.Equal("fp16", pipe.Variant);
        Assert.Equal(new Dictionary<string, int> { ["F16"] = tensors.Count }, pipe.UNet.Weights!.DTypes);

        using var model = pipe.LoadUNet();
        foreach (var (key, value) in model.state_dict())
        {
            Assert.Equal(TorchSharp.torch.ScalarType.Float32, value.dtype);
            TensorAssert.BitwiseEqual(tensors[key].to_type(TorchSharp.torch.ScalarType.Float32), value, key);
        }
        foreach (var t in tensors.Values) t.Dispose();
    }
}
