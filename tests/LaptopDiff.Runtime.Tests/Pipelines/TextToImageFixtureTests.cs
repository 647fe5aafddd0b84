using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Clip;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>The tiny pipelines, each loaded once for the tests of a class.</summary>
public sealed class LoadedPipelines : IDisposable
{
    private readonly Dictionary<string, TextToImagePipeline> _loaded = new();

    public TextToImagePipeline this[string folder]
    {
        get
        {
            lock (_loaded)
            {
                if (!_loaded.TryGetValue(folder, out var pipeline))
                    _loaded[folder] = pipeline = TextToImagePipeline.Load(PipelineFolder.Open(PipelineFixtures.Folder(folder)));
                return pipeline;
            }
        }
    }

    public void Dispose()
    {
        foreach (var pipeline in _loaded.Values) pipeline.Dispose();
    }
}

/// <summary>
/// Every full loop of both fixtures through the runtime API, from the fixture's starting noise: final latents within
/// 1e-4 relative L2 and images within 2e-4 absolute of diffusers' (the fixtures' README tolerances).
/// </summary>
public sealed class TextToImageFixtureTests(LoadedPipelines pipelines, ITestOutputHelper output) : IClassFixture<LoadedPipelines>
{
    public static TheoryData<string, string> Runs => PipelineRuns.Keys();

    [Theory]
    [MemberData(nameof(Runs))]
    public void Run_equals_diffusers(string folder, string key)
    {
        var run = PipelineRuns.Find(folder, key);
        var io = ClipFixtures.Tensors(run.IoSafetensors);
        try
        {
            using var result = pipelines[folder].Generate(run.Request(io[$"{key}.latents_init"]));

            double latentError = ClipFixtures.RelativeL2(result.Latents, io[$"{key}.latents_final"]);
            double imageError = ClipFixtures.MaxAbs(result.Images!, io[$"{key}.image"]);
            output.WriteLine($"{run}: final latents relative L2 {latentError:E2}, image max abs {imageError:E2}");
            Assert.InRange(latentError, 0, 1e-4);
            Assert.InRange(imageError, 0, 2e-4);
            Assert.Null(result.Seed);
            Assert.Equal(run.GuidanceScale > 1 ? 2 : 1, result.Timings.Steps.Single(s => s.Index == 0).UNetBatch);   // both halves in one batch
            Assert.Equal(run.Steps, result.Timings.Steps.Count);
        }
        finally
        {
            foreach (var t in io.Values) t.Dispose();
        }
    }

    [Fact]
    public void Latent_output_skips_the_vae_and_keeps_the_same_latents()
    {
        var run = PipelineRuns.Find(PipelineFixtures.Sd15, "pipe.ddim.0");
        var io = ClipFixtures.Tensors(run.IoSafetensors);
        using var latentOnly = pipelines[run.Folder].Generate(run.Request(io[$"{run.Key}.latents_init"]) with { Decode = false });

        Assert.Null(latentOnly.Images);
        Assert.Equal(0, latentOnly.Timings.DecodingMs);
        Assert.InRange(ClipFixtures.RelativeL2(latentOnly.Latents, io[$"{run.Key}.latents_final"]), 0, 1e-4);
        foreach (var t in io.Values) t.Dispose();
    }

    [Fact]
    public void A_seed_gives_the_noise_a_generator_of_that_seed_draws()
    {
        var pipeline = pipelines[PipelineFixtures.Sd15];
        var request = new TextToImageRequest { Prompts = ["a red fox", "a lighthouse"], Steps = 2, Seed = 123, Decode = false };
        using var seeded = pipeline.Generate(request);
        using var noise = InitialNoise.Draw(123, 2, 4, 8, 8);
        using var given = pipeline.Generate(request with { Seed = null, InitialLatents = noise });

        Assert.Equal(123, seeded.Seed);
        Assert.Equal(0.0, ClipFixtures.MaxAbs(seeded.Latents, given.Latents));
        Assert.Equal(new long[] { 2, 4, 8, 8 }, seeded.Latents.shape);
    }

    [Fact]
    public void Guidance_of_one_runs_the_conditional_half_alone()
    {
        var pipeline = pipelines[PipelineFixtures.Sdxl];
        using var noise = InitialNoise.Draw(5, 1, 4, 8, 8);
        var request = new TextToImageRequest { Prompts = ["a red fox"], Steps = 2, GuidanceScale = 1, InitialLatents = noise, Decode = false };
        using var unguided = pipeline.Generate(request);

        // by hand: the same loop with only the conditional embeddings
        using var conditional = pipeline.Prompts.Encode(request.Prompts);
        using var conditioning = GuidedConditioning.Create(conditional, null, [64, 64, 0, 0, 64, 64]);
        var scheduler = unguided.Plan.Scheduler.CreateScheduler();
        scheduler.SetTimesteps(2);
        using var expected = DenoisingLoop.Run(pipeline.UNet, scheduler, noise, conditioning, new Guidance(1));

        Assert.All(unguided.Timings.Steps, s => Assert.Equal(1, s.UNetBatch));
        Assert.Equal(0.0, ClipFixtures.MaxAbs(unguided.Latents, expected));
    }

    [Fact]
    public void Progress_reports_each_stage_and_step_in_order()
    {
        var pipeline = pipelines[PipelineFixtures.Sd15];
        var reports = new List<PipelineProgress>();
        using var result = pipeline.Generate(new TextToImageRequest { Prompts = ["a red fox"], Steps = 3, Seed = 1 }, new Recorder(reports));

        Assert.Equal(
            ["EncodingPrompts 0", "Denoising 0", "Denoising 1", "Denoising 2", "Denoising 3", "Decoding 3"],
            reports.Select(r => $"{r.Stage} {r.StepsDone}"));
        Assert.Equal(result.Timings.Steps, reports.Where(r => r.LastStep is not null).Select(r => r.LastStep!));
        Assert.True(result.Timings.TotalMs >= result.Timings.TextEncodingMs + result.Timings.DenoisingMs + result.Timings.DecodingMs);
    }

    private sealed class Recorder(List<PipelineProgress> reports) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => reports.Add(value);
    }
}
