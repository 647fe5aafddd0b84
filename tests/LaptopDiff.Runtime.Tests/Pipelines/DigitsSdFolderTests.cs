using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Sampling;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>The shipped miniature Stable Diffusion, models/digits-sd: a diffusers folder whose models load strictly.</summary>
public sealed class DigitsSdFolderTests
{
    private static string Folder => Path.Combine(TestPaths.RepoRoot, "models", "digits-sd");

    public DigitsSdFolderTests() => set_num_threads(1);

    [Fact]
    public void It_opens_as_a_stable_diffusion_pipeline_and_every_model_loads_strictly()
    {
        var folder = PipelineFolder.Open(Folder);
        Assert.Equal(PipelineKind.StableDiffusion, folder.Kind);
        Assert.Equal("DDIMScheduler", folder.Scheduler.ClassName);
        using var unet = folder.LoadUNet();
        using var vae = PipelineModels.LoadVae(folder);
        using var encoder = PipelineModels.LoadTextEncoder(folder);
        Assert.Equal(encoder.Config.HiddenSize, unet.Layout.Spec.CrossAttentionDim);
        Assert.Equal(49408, encoder.Config.VocabSize);
        Assert.Equal(32, PipelineModels.ImageSize(folder));                              // 8x8x4 latents, 4x downsampling
        Assert.Equal(4, vae.Config.DownscaleFactor);
        Assert.All(vae.Config.BlockOutChannels, c => Assert.Equal(0, c % 16));
        Assert.Equal(unet.Layout.TotalParamCount, unet.parameters().Sum(p => p.numel()));
        Assert.Equal(vae.Config.ParamCount(), vae.parameters().Sum(p => p.numel()));
        Assert.Equal(encoder.Config.ParamCount, encoder.parameters().Sum(p => p.numel()));
        var schedule = SchedulerNoise.Read(folder);
        Assert.Equal((0.0001, 0.02), (schedule.BetaStart, schedule.BetaEnd));
    }

    [Fact]
    public void Every_file_is_under_10_MB_and_the_tokenizer_is_clips_own()
    {
        foreach (var file in Directory.GetFiles(Folder, "*", SearchOption.AllDirectories))
            Assert.True(new FileInfo(file).Length < 10_000_000, $"{file} is {new FileInfo(file).Length:N0} bytes");
        foreach (var name in new[] { "vocab.json", "merges.txt" })
            Assert.Equal(File.ReadAllBytes(TestPaths.SdPipeline($"tiny-sd15-pipe/tokenizer/{name}")), File.ReadAllBytes(Path.Combine(Folder, "tokenizer", name)));
        var tokenizer = ClipTokenizer.Load(Path.Combine(Folder, "tokenizer"));
        Assert.Equal([49406, 320, 35192, 278, 49407], tokenizer.Encode("a handwritten 7").Ids);     // vocab.json: a</w> 320, handwritten</w> 35192, 7</w> 278
    }

    [Fact]
    public void The_unet_has_prunable_units_for_the_knapsack_and_fits_the_bk_sdm_small_preset()
    {
        var layout = PipelineFolder.Open(Folder).BuildUNetLayout();
        Assert.Equal(26, layout.Units.Count(u => u.Prunable));
        var preset = PruningPresets.TryApply(PruningPresets.BkSdmSmall, layout, out var reason);
        Assert.True(preset != null, reason);
    }
}
