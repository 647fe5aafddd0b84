using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Weights;
using static LaptopDiff.Runtime.Tests.Pipelines.PipelineFixtures;

namespace LaptopDiff.Runtime.Tests.Pipelines;

public sealed class PipelineFolderTests
{
    private static (ComponentKind, string, string) Declared(PipelineComponent c) => (c.Kind, c.Library, c.ClassName);

    [Fact]
    public void Tiny_sd15_folder_opens_as_stable_diffusion_with_its_components()
    {
        var pipe = PipelineFolder.Open(Folder(Sd15));

        Assert.Equal(PipelineKind.StableDiffusion, pipe.Kind);
        Assert.Equal("StableDiffusionPipeline", pipe.ClassName);
        Assert.Equal("0.36.0", pipe.DiffusersVersion);
        Assert.Equal(["unet", "vae", "text_encoder", "tokenizer", "scheduler"], pipe.Components.Select(c => c.Name));
        Assert.Equal((ComponentKind.UNet, "diffusers", "UNet2DConditionModel"), Declared(pipe.UNet));
        Assert.Equal((ComponentKind.Vae, "diffusers", "AutoencoderKL"), Declared(pipe.Vae));
        Assert.Equal((ComponentKind.TextEncoder, "transformers", "CLIPTextModel"), Declared(pipe.TextEncoder));
        Assert.Equal((ComponentKind.Tokenizer, "transformers", "CLIPTokenizer"), Declared(pipe.Tokenizer));
        Assert.Equal((ComponentKind.Scheduler, "diffusers", "PNDMScheduler"), Declared(pipe.Scheduler));
        Assert.Null(pipe.TextEncoder2);
        Assert.Null(pipe.Tokenizer2);
        Assert.Empty(pipe.Unused);   // safety_checker, feature_extractor, image_encoder are [null, null]
        Assert.False(pipe.RequiresSafetyChecker);
        Assert.False(pipe.ForceZerosForEmptyPrompt);

        Assert.Equal(Path.Combine(Folder(Sd15), "unet", "config.json"), pipe.UNet.ConfigPath);
        Assert.Equal(Path.Combine(Folder(Sd15), "scheduler", "scheduler_config.json"), pipe.Scheduler.ConfigPath);
        Assert.Null(pipe.Tokenizer.ConfigPath);
        Assert.Null(pipe.Tokenizer.Weights);
        Assert.Null(pipe.Scheduler.Weights);
        Assert.Equal("model.safetensors", Path.GetFileName(pipe.TextEncoder.Weights!.Files!.Path));
        Assert.Equal("diffusion_pytorch_model.safetensors", Path.GetFileName(pipe.Vae.Weights!.Files!.Path));
    }

    [Fact]
    public void Tiny_sdxl_folder_opens_as_sdxl_with_both_encoders()
    {
        var pipe = PipelineFolder.Open(Folder(Sdxl));

        Assert.Equal(PipelineKind.StableDiffusionXL, pipe.Kind);
        Assert.Equal(["unet", "vae", "text_encoder", "tokenizer", "scheduler", "text_encoder_2", "tokenizer_2"], pipe.Components.Select(c => c.Name));
        Assert.Equal((ComponentKind.TextEncoderWithProjection, "transformers", "CLIPTextModelWithProjection"), Declared(pipe.TextEncoder2!));
        Assert.Equal((ComponentKind.Tokenizer, "transformers", "CLIPTokenizer"), Declared(pipe.Tokenizer2!));
        Assert.Equal("EulerDiscreteScheduler", pipe.Scheduler.ClassName);
        Assert.True(pipe.ForceZerosForEmptyPrompt);
        Assert.False(pipe.RequiresSafetyChecker);
        Assert.Equal(Path.Combine(Folder(Sdxl), "text_encoder_2"), pipe.TextEncoder2!.Folder);
        Assert.True(pipe.TextEncoder2.Weights!.HasWeights);
    }

    [Theory]
    [InlineData(Sd15)]
    [InlineData(Sdxl)]
    public void Weight_dtypes_come_from_the_headers_and_count_every_unet_tensor(string fixture)
    {
        var pipe = PipelineFolder.Open(Folder(fixture));
        var layout = pipe.BuildUNetLayout();

        // every key the config's layout has, all float32 in these fixtures
        Assert.Equal(new Dictionary<string, int> { ["F32"] = layout.StateDictKeys.Count }, pipe.UNet.Weights!.DTypes);
        Assert.All(pipe.Components.Where(c => c.IsModel), c => Assert.Equal(["F32"], c.Weights!.DTypes.Keys));
    }

    [Theory]
    [InlineData(Sd15)]
    [InlineData(Sdxl)]
    public void The_unet_loads_strictly_from_its_folder(string fixture)
    {
        var pipe = PipelineFolder.Open(Folder(fixture));

        using var unet = pipe.LoadUNet();

        var file = SafetensorsFile.Load(Path.Combine(Folder(fixture), "unet", "diffusion_pytorch_model.safetensors"));
        var state = unet.state_dict();
        Assert.Equal(file.Count, state.Count);
        foreach (var (key, value) in state)
            TensorAssert.BitwiseEqual(file[key], value, key);
        foreach (var t in file.Values) t.Dispose();
    }

    [Theory]
    [InlineData(Sd15Structure, PipelineKind.StableDiffusion, 859_520_964L)]
    [InlineData(SdxlStructure, PipelineKind.StableDiffusionXL, 2_567_463_684L)]
    public void Structure_configs_open_without_weights_or_tokenizers(string fixture, PipelineKind kind, long unetParams)
    {
        var pipe = PipelineFolder.OpenStructure(Folder(fixture));

        Assert.Equal(kind, pipe.Kind);
        Assert.Equal(unetParams, pipe.BuildUNetLayout().TotalParamCount);
        Assert.All(pipe.Components.Where(c => c.IsModel), c =>
        {
            Assert.False(c.Weights!.HasWeights);
            Assert.Equal("no weights", c.Weights.Describe());
            Assert.Empty(c.Weights.DTypes);
        });
        Assert.All(pipe.Components.Where(c => c.Kind == ComponentKind.Tokenizer), c => Assert.False(c.FolderExists));

        var noWeights = Assert.Throws<WeightsException>(() => pipe.LoadUNet());
        Assert.Contains($"'{Path.Combine(Folder(fixture), "unet")}' holds no weights (looked for diffusion_pytorch_model.safetensors or " +
                        "diffusion_pytorch_model.safetensors.index.json)", noWeights.Message);

        // to run it, the tokenizers must be there
        var toRun = Assert.Throws<PipelineException>(() => PipelineFolder.Open(Folder(fixture)));
        Assert.Equal($"component 'tokenizer' (CLIPTokenizer) is listed in model_index.json but the folder {Path.Combine(Folder(fixture), "tokenizer")} does not exist.",
            toRun.Message);
    }
}
