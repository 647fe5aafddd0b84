using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Tests.Clip;
using LaptopDiff.Runtime.Tests.Pipelines;
using LaptopDiff.Runtime.Tests.Weights;
using SkiaSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Calibration;

/// <summary>
/// Calibration sets drawn from the tiny pipelines: the stored states are the teacher's own DDIM states (the first step's is
/// the seeded noise itself), the stored clean latents are the x_0 the teacher's guided prediction implies at the stored
/// (x_t, t), conditioning and the empty prompt's row match the pipeline's encoder, and the sweep uses the states as they are.
/// </summary>
public sealed class PipelineCalibrationTests(LoadedPipelines pipelines, ITestOutputHelper log) : IClassFixture<LoadedPipelines>, IDisposable
{
    private readonly TempFolder _temp = new();
    private static readonly string[] Prompts = ["a red fox", "a blue car in the snow", "the digit seven"];

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Trajectory_states_are_the_teachers_own()
    {
        var pipeline = pipelines[PipelineFixtures.Sd15];
        var request = new PipelineCalibrationRequest { Prompts = Prompts, Samples = 4, Steps = 2, GuidanceScale = 7.5, Seed = 5, BatchSize = 3 };
        using var set = PipelineCalibration.Build(pipeline, request);
        Assert.Equal(4, set.Count);
        Assert.Equal([4, 4, 8, 8], set[CalibrationFormat.NoisyLatents].shape);
        Assert.Equal([1, 77, 32], set[CalibrationFormat.NegativeEncoderHiddenStates].shape);
        Assert.All(set.Prompts, p => Assert.Contains(p, Prompts));

        // DDIM over 2 steps from the folder's config (leading spacing, steps_offset 1): timesteps 501 then 1
        var timesteps = set[CalibrationFormat.Timesteps].data<long>().ToArray();
        Assert.All(timesteps, t => Assert.Contains(t, new long[] { 501, 1 }));
        var scheduler = SchedulerConfig.Load(pipeline.Folder.Scheduler.ConfigPath!).For(SchedulerKind.Ddim).CreateScheduler();

        using var noGrad = no_grad();
        using var emptyStates = pipeline.Prompts.Encode([""]);
        Assert.True(ClipFixtures.MaxAbs(set[CalibrationFormat.NegativeEncoderHiddenStates], emptyStates.PromptEmbeds) == 0);
        int firstSteps = 0;
        for (int j = 0; j < set.Count; j++)
        {
            using var scope = NewDisposeScope();
            var x = set[CalibrationFormat.NoisyLatents].narrow(0, j, 1);                                         // [1,4,8,8]
            using var own = pipeline.Prompts.Encode([set.Prompts[j]]);
            Assert.True(ClipFixtures.MaxAbs(set[CalibrationFormat.EncoderHiddenStates].narrow(0, j, 1), own.PromptEmbeds) == 0, $"sample {j}: conditioning");
            if (timesteps[j] == 501)
            {
                // the first step's state is the starting noise, drawn from seed + j
                Assert.True(ClipFixtures.MaxAbs(x, InitialNoise.Draw(request.Seed + j, 1, 4, 8, 8)) == 0, $"sample {j}: the first state is not the seeded noise");
                firstSteps++;
            }
            // x_0 from the guided prediction at the stored (x_t, t)
            var states = cat([set[CalibrationFormat.NegativeEncoderHiddenStates], set[CalibrationFormat.EncoderHiddenStates].narrow(0, j, 1)], 0);   // [2,77,32]
            using var output = pipeline.UNet.Forward(new UNetInputs(cat([x, x], 0), tensor(new[] { timesteps[j], timesteps[j] }), states, null, null));
            var eps = DenoisingLoop.Guide(output.Sample, new Guidance(request.GuidanceScale));
            double alpha = scheduler.AlphasCumprod[(int)timesteps[j]];
            var x0 = (x - Math.Sqrt(1 - alpha) * eps) / Math.Sqrt(alpha);
            double error = ClipFixtures.RelativeL2(set[CalibrationFormat.Latents].narrow(0, j, 1), x0);
            log.WriteLine($"sample {j} (t={timesteps[j]}): x_0 relative L2 {error:E2}");
            Assert.True(error < 1e-5, $"sample {j}: stored x_0 is {error:E2} from the guided prediction's");
        }
        Assert.InRange(firstSteps, 1, 3);
    }

    [Fact]
    public void The_sweep_uses_stored_states_and_sdxl_sets_carry_pooled_embeddings_and_time_ids()
    {
        var pipeline = pipelines[PipelineFixtures.Sdxl];
        var path = _temp.File("sdxl.safetensors");
        using (var built = PipelineCalibration.Build(pipeline, new PipelineCalibrationRequest { Prompts = Prompts, Samples = 2, Steps = 2, Seed = 1 }))
            built.Save(path);
        using var set = CalibrationSet.Load(path, pipeline.UNet.Layout);
        Assert.Equal([2, 24], set.TextEmbeds!.shape);
        Assert.Equal(new float[] { 64, 64, 0, 0, 64, 64, 64, 64, 0, 0, 64, 64 }, set.TimeIds!.data<float>().ToArray());
        Assert.Equal([1, 24], set.NegativeTextEmbeds!.shape);
        Assert.Equal(0f, set.NegativeTextEmbeds.abs().max().item<float>());                 // force_zeros_for_empty_prompt: guidance against zeros

        var settings = new NoisingSettings { Seed = 9 }.For(set);
        Assert.Equal(NoisingSettings.StoredScheme, settings.Scheme);
        var noising = new CalibrationNoising(set.Count, settings);
        Assert.Equal(set.StoredTimesteps, noising.Timesteps);
        using var scope = NewDisposeScope();
        var inputs = noising.Inputs(set, 0, 2);
        Assert.True(ClipFixtures.MaxAbs(inputs.Sample, set.NoisyLatents!) == 0);
        Assert.Equal(set.Timesteps!.data<long>().ToArray(), inputs.Timestep.data<long>().ToArray());
    }

    [Fact]
    public void Image_sets_are_vae_latents_with_skipped_files_counted()
    {
        var pipeline = pipelines[PipelineFixtures.Sd15];
        var dir = Directory.CreateDirectory(_temp.File("images")).FullName;
        using var pixels = rand(new long[] { 2, 3, 80, 64 }, generator: new Generator(7));
        PngImages.Write(Path.Combine(dir, "a.png"), pixels[0]);
        PngImages.Write(Path.Combine(dir, "b.png"), pixels[1]);
        File.WriteAllBytes(Path.Combine(dir, "broken.png"), [0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
        WriteGray(Path.Combine(dir, "gray.png"));
        File.WriteAllLines(Path.Combine(dir, ImageFolder.MetadataFile),
            ["{\"file_name\": \"a.png\", \"text\": \"a fox\"}", "{\"file_name\": \"b.png\", \"text\": \"a car\"}",
             "{\"file_name\": \"broken.png\", \"text\": \"x\"}", "{\"file_name\": \"gray.png\", \"text\": \"y\"}"]);

        using var set = PipelineCalibration.Build(pipeline, new PipelineCalibrationRequest { ImageFolder = dir, Samples = 3, Seed = 2, BatchSize = 2 });
        Assert.Equal(2, set.Skipped.Count);
        Assert.Equal(new[] { ImageDecoder.Grayscale, ImageDecoder.Unreadable }.Order(), set.Skipped.Select(s => s.Reason).Order());
        Assert.Equal(3, set.Count);
        Assert.Equal(set.Prompts[0], set.Prompts[2]);                                          // two usable images for three samples: repeated
        using var noGrad = no_grad();
        for (int j = 0; j < 2; j++)
        {
            var file = set.Prompts[j] == "a fox" ? "a.png" : "b.png";
            var decoded = ImageDecoder.Decode(Path.Combine(dir, file), 64).Pixels!;                        // [3,64,64] in [-1,1]
            using var distribution = pipeline.Vae.Encode(decoded.unsqueeze(0));
            using var expected = pipeline.Vae.ToLatents(distribution, null);
            Assert.True(ClipFixtures.RelativeL2(set[CalibrationFormat.Latents].narrow(0, j, 1), expected) < 1e-6);
        }
        // x_t = sqrt(a) x_0 + sqrt(1 - a) eps at stratified timesteps: one per third of the schedule
        var t = set[CalibrationFormat.Timesteps].data<long>().Select(v => (int)v / 334).Order().ToArray();
        Assert.Equal([0, 1, 2], t);
    }

    [Fact]
    public void Missing_captions_and_no_prompts_are_input_errors()
    {
        var pipeline = pipelines[PipelineFixtures.Sd15];
        var dir = Directory.CreateDirectory(_temp.File("uncaptioned")).FullName;
        using var pixels = rand(3, 16, 16);
        PngImages.Write(Path.Combine(dir, "a.png"), pixels);
        PngImages.Write(Path.Combine(dir, "b.png"), pixels);
        File.WriteAllText(Path.Combine(dir, "a.txt"), "a caption");
        var error = Assert.Throws<InputException>(() => PipelineCalibration.Build(pipeline, new PipelineCalibrationRequest { ImageFolder = dir, Samples = 2 }));
        Assert.Contains("1 of 2 images have no caption (b.png)", error.Message);
        Assert.Throws<InputException>(() => PipelineCalibration.Build(pipeline, new PipelineCalibrationRequest { Samples = 2 }));
    }

    private static void WriteGray(string path)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(16, 16, SKColorType.Gray8, SKAlphaType.Opaque));
        bitmap.Erase(SKColors.Gray);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
