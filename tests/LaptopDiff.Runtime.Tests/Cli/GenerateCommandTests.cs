using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Clip;
using LaptopDiff.Runtime.Tests.Pipelines;
using LaptopDiff.Runtime.Weights;
using SkiaSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// <c>generate</c> as outside checks drive it: every fixture loop from its starting noise (<c>--latents</c>) into a
/// <c>.safetensors</c> output, equal to diffusers within the fixtures' tolerances; PNG outputs; a student U-Net.
/// </summary>
public sealed class GenerateCommandTests(LoadedPipelines pipelines, ITestOutputHelper output) : IClassFixture<LoadedPipelines>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string, string> Runs => PipelineRuns.Keys();

    private string WriteLatents(Tensor latents)
    {
        var path = _temp.File($"init-{Guid.NewGuid():N}.safetensors");
        SafetensorsFile.Save(path, [KeyValuePair.Create("latents", latents)]);
        return path;
    }

    private static string G(double value) => value.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [MemberData(nameof(Runs))]
    public void Every_fixture_loop_through_the_cli_equals_diffusers(string folder, string key)
    {
        var run = PipelineRuns.Find(folder, key);
        var io = ClipFixtures.Tensors(run.IoSafetensors);
        var outputPath = _temp.File($"{key}.safetensors");
        var args = new List<string>
        {
            "generate", "--model", PipelineFixtures.Folder(folder), "--prompt", run.Prompt, "--steps", run.Steps.ToString(CultureInfo.InvariantCulture),
            "--guidance", G(run.GuidanceScale), "--scheduler", run.Scheduler == Runtime.Schedulers.SchedulerKind.Ddim ? "ddim" : "euler",
            "--height", run.Height.ToString(CultureInfo.InvariantCulture), "--width", run.Width.ToString(CultureInfo.InvariantCulture),
            "--latents", WriteLatents(io[$"{key}.latents_init"]), "--output", outputPath,
        };
        if (run.NegativePrompt is { } negative) args.AddRange(["--negative-prompt", negative]);

        var (code, stdout, stderr) = CliRunner.Run([.. args]);

        Assert.True(code == 0, stderr);
        Assert.Contains($"wrote {outputPath}: 1 image(s) 64x64", stdout);
        var written = SafetensorsFile.Load(outputPath);
        double latentError = ClipFixtures.RelativeL2(written["latents"], io[$"{key}.latents_final"]);
        double imageError = ClipFixtures.MaxAbs(written["image"], io[$"{key}.image"]);
        output.WriteLine($"cli {run}: final latents relative L2 {latentError:E2}, image max abs {imageError:E2}");
        Assert.InRange(latentError, 0, 1e-4);
        Assert.InRange(imageError, 0, 2e-4);
        foreach (var t in io.Values.Concat(written.Values)) t.Dispose();
    }

    [Fact]
    public void A_png_holds_the_image_rounded_to_bytes_and_json_gives_per_stage_timings()
    {
        var model = PipelineFixtures.Folder(PipelineFixtures.Sd15);
        var tensors = _temp.File("seeded.safetensors");
        var png = _temp.File("seeded.png");
        string[] common = ["generate", "--model", model, "--prompt", "a red fox in the snow", "--steps", "3", "--seed", "42"];

        var (code, stdout, stderr) = CliRunner.Run([.. common, "--output", tensors, "--json"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(0, CliRunner.Run([.. common, "--output", png]).ExitCode);

        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(42, root.GetProperty("seed").GetInt64());
        Assert.Equal("DDIMScheduler", root.GetProperty("scheduler").GetString());
        Assert.Contains("PNDMScheduler", root.GetProperty("scheduler_note").GetString());
        Assert.Equal(2, root.GetProperty("unet_batch").GetInt32());                          // both guidance halves in one U-Net batch
        var timings = root.GetProperty("timings");
        Assert.Equal(3, timings.GetProperty("steps_ms").GetArrayLength());
        Assert.Equal(new[] { 667.0, 334, 1 }, timings.GetProperty("timesteps").EnumerateArray().Select(t => t.GetDouble()));   // leading, steps_offset 1
        Assert.True(timings.GetProperty("decoding_ms").GetDouble() > 0 && timings.GetProperty("text_encoding_ms").GetDouble() > 0);
        Assert.Contains("note: the folder's scheduler is PNDMScheduler", stderr);

        var image = SafetensorsFile.Load(tensors)["image"];                                    // [1,3,64,64] in [0,1]
        using var expected = (image[0] * 255).round().to_type(ScalarType.Byte).permute(1, 2, 0).contiguous();   // [H,W,3]
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((64, 64), (bitmap.Width, bitmap.Height));
        Assert.Equal(expected.data<byte>().ToArray(), Rgb(bitmap, 0, 0, 64, 64));
    }

    [Fact]
    public void Several_prompts_make_one_batch_and_a_grid_of_their_images()
    {
        var model = PipelineFixtures.Folder(PipelineFixtures.Sd15);
        var prompts = _temp.File("prompts.txt");
        File.WriteAllText(prompts, "a lighthouse at dusk\n\n   \r\nbowl of fruit, still life\r\n");
        var tensors = _temp.File("batch.safetensors");
        var grid = _temp.File("grid.png");
        string[] common = ["generate", "--model", model, "--prompt", "a red fox", "--prompts", prompts, "--steps", "2", "--seed", "7"];

        var (code, _, stderr) = CliRunner.Run([.. common, "--output", tensors]);
        Assert.True(code == 0, stderr);
        Assert.Equal(0, CliRunner.Run([.. common, "--output", grid]).ExitCode);

        var images = SafetensorsFile.Load(tensors)["image"];
        Assert.Equal(new long[] { 3, 3, 64, 64 }, images.shape);
        using var noise = InitialNoise.Draw(7, 3, 4, 8, 8);                                    // one draw for the whole batch
        using var alone = pipelines[PipelineFixtures.Sd15].Generate(new TextToImageRequest { Prompts = ["a lighthouse at dusk"], Steps = 2, InitialLatents = noise[1..2] });
        Assert.InRange(ClipFixtures.MaxAbs(images[1..2], alone.Images!), 0, 1e-5);

        using var bitmap = SKBitmap.Decode(grid);                                             // 2 columns, 2 rows, 8 px gaps
        for (int i = 0; i < 3; i++)
        {
            using var expected = (images[i] * 255).round().to_type(ScalarType.Byte).permute(1, 2, 0).contiguous();
            Assert.Equal(expected.data<byte>().ToArray(), Rgb(bitmap, 8 + i % 2 * 72, 8 + i / 2 * (bitmap.Height - 8) / 2, 64, 64));
        }
    }

    [Fact]
    public void A_pruned_student_from_prune_random_replaces_the_unet()
    {
        var model = PipelineFixtures.Folder(PipelineFixtures.Sd15);
        var spec = _temp.File("student.unet.yaml");
        var weights = _temp.File("student.safetensors");
        var prune = CliRunner.Run("prune", "--random", "3", "--ratio", "0.3", "--spec", Path.Combine(model, "unet", "config.json"), "--output", spec,
            "--weights", Path.Combine(model, "unet", "diffusion_pytorch_model.safetensors"), "--student-weights", weights);
        Assert.True(prune.ExitCode == 0, prune.Error);
        Assert.Contains("base: ../", File.ReadAllText(spec));                                  // relative to the spec's folder, a JSON base
        var outputPath = _temp.File("student-out.safetensors");

        var (code, _, stderr) = CliRunner.Run("generate", "--model", model, "--prompt", "a red fox", "--negative-prompt", "blurry", "--steps", "3", "--seed", "5",
            "--unet-spec", spec, "--unet-weights", weights, "--output", outputPath);

        Assert.True(code == 0, stderr);
        var teacher = pipelines[PipelineFixtures.Sd15];
        var removed = Runtime.Specs.SpecFiles.LoadLayout(spec).Removed;
        using var masked = teacher.Generate(new TextToImageRequest
        {
            Prompts = ["a red fox"], NegativePrompt = "blurry", Steps = 3, Seed = 5, Mask = teacher.UNet.Plan.Mask([.. removed]),
        });
        var written = SafetensorsFile.Load(outputPath);
        Assert.NotEmpty(removed);
        Assert.Equal(0.0, ClipFixtures.MaxAbs(written["latents"], masked.Latents));
        Assert.Equal(0.0, ClipFixtures.MaxAbs(written["image"], masked.Images!));
    }

    private static byte[] Rgb(SKBitmap bitmap, int x0, int y0, int width, int height)
    {
        var bytes = new List<byte>(width * height * 3);
        for (int y = y0; y < y0 + height; y++)
            for (int x = x0; x < x0 + width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                bytes.AddRange([c.Red, c.Green, c.Blue]);
            }
        return bytes.ToArray();
    }
}
