using System.Text.Json;
using LaptopDiff.Cli;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Clip;
using LaptopDiff.Runtime.Tests.Pipelines;
using LaptopDiff.Runtime.Weights;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// The method on a pipeline folder through the command line: calibration from prompts, sweep, prune at 0.5 and export, all
/// naming the model with --model; the exported folder loads back with --model and samples exactly as the student does in
/// place of the teacher's U-Net. Plus the bad inputs of calibration, export and score.
/// </summary>
public sealed class PipelineMethodCommandTests(ITestOutputHelper log) : IDisposable
{
    private static readonly string Sd15 = PipelineFixtures.Folder(PipelineFixtures.Sd15);
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Run(int expected, params string[] args)
    {
        var (code, stdout, error) = CliRunner.Run(args);
        Assert.True(code == expected, $"{string.Join(" ", args)}: exit {code}, expected {expected}\n{error}");
        return code == 0 ? stdout : error;
    }

    [Theory]
    [InlineData(PipelineFixtures.Sd15, 792_964)]
    [InlineData(PipelineFixtures.Sdxl, 1_376_100)]
    public void Calibration_sweep_prune_export_and_generate_from_the_export(string fixture, long unetParams)
    {
        var folder = PipelineFixtures.Folder(fixture);
        var prompts = _temp.File("prompts.tsv");
        File.WriteAllLines(prompts, ["Prompt\tCategory", "a red fox\tAnimals", "a blue car\tVehicles"]);
        string calibration = _temp.File("calib.safetensors"), criterion = _temp.File("criterion.json");
        string spec = _temp.File("student.unet.yaml"), weights = _temp.File("student.safetensors"), export = _temp.File("exported");
        Run(0, "calibration", "--model", folder, "--prompts", prompts, "--samples", "2", "--steps", "2", "--output", calibration);
        Run(0, "sweep", "--model", folder, "--calibration", calibration, "--output", criterion);
        Run(0, "prune", "--model", folder, "--criterion", criterion, "--ratio", "0.5", "--output", spec, "--student-weights", weights);
        using var json = JsonDocument.Parse(Run(0, "export", "--model", folder, "--student-spec", spec, "--student-weights", weights, "--output", export, "--json"));

        var root = json.RootElement;
        var removed = root.GetProperty("removed").EnumerateArray().ToList();
        long teacherParams = root.GetProperty("teacher_params").GetInt64(), studentParams = root.GetProperty("student_params").GetInt64();
        Assert.Equal(unetParams, teacherParams);
        Assert.Equal(teacherParams - studentParams, removed.Sum(u => u.GetProperty("params").GetInt64()));
        Assert.True(studentParams <= teacherParams / 2);
        using var criterionJson = JsonDocument.Parse(File.ReadAllText(criterion));
        var losses = criterionJson.RootElement.GetProperty("units").EnumerateArray().ToDictionary(u => u.GetProperty("id").GetString()!, u => u.GetProperty("loss").GetDouble());
        foreach (var unit in removed)
            Assert.Equal(losses[unit.GetProperty("id").GetString()!], unit.GetProperty("one_shot_loss").GetDouble());
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(export, PipelineExport.ManifestFile)));
        Assert.Equal(0.5, manifest.RootElement.GetProperty("ratio").GetDouble());
        Assert.Equal(folder, manifest.RootElement.GetProperty("teacher").GetProperty("folder").GetString());

        string fromExport = _temp.File("export.safetensors"), fromStudent = _temp.File("student-in-place.safetensors");
        Run(0, "generate", "--model", export, "--prompt", "a red fox", "--steps", "2", "--seed", "3", "--output", fromExport);
        Run(0, "generate", "--model", folder, "--unet-spec", spec, "--unet-weights", weights, "--prompt", "a red fox", "--steps", "2", "--seed", "3", "--output", fromStudent);
        using var scope = NewDisposeScope();
        var a = SafetensorsFile.Load(fromExport);
        var b = SafetensorsFile.Load(fromStudent);
        double maxAbs = ClipFixtures.MaxAbs(a["image"], b["image"]);
        log.WriteLine($"generate from the export vs the student in place: image max abs {maxAbs:E2}, latents max abs {ClipFixtures.MaxAbs(a["latents"], b["latents"]):E2}");
        Assert.Equal(0, maxAbs);
    }

    [Fact]
    public void Bad_inputs_are_clear_errors_and_write_nothing()
    {
        var empty = _temp.File("empty.txt");
        File.WriteAllText(empty, "\n  \n");
        var output = _temp.File("calib.safetensors");
        Assert.Contains("holds no prompt", Run(ExitCodes.InputError, "calibration", "--model", Sd15, "--prompts", empty, "--samples", "2", "--output", output));
        Assert.False(File.Exists(output));
        Assert.Contains("do not go together", Run(ExitCodes.Usage, "calibration", "--model", Sd15, "--spec", empty, "--prompts", empty, "--samples", "2", "--output", output));
        Assert.Contains("do not go together", Run(ExitCodes.Usage, "sweep", "--model", Sd15, "--spec", empty, "--calibration", output, "--output", _temp.File("c.json")));

        var occupied = Directory.CreateDirectory(_temp.File("occupied")).FullName;
        File.WriteAllText(Path.Combine(occupied, "keep.txt"), "mine");
        var unet = Path.Combine(Sd15, "unet");
        Assert.Contains("not empty", Run(ExitCodes.InputError, "export", "--model", Sd15, "--student-spec", Path.Combine(unet, "config.json"),
            "--student-weights", Path.Combine(unet, "diffusion_pytorch_model.safetensors"), "--output", occupied));
        Assert.Equal(["keep.txt"], Directory.GetFiles(occupied).Select(Path.GetFileName));

        var image = _temp.File("image.safetensors");
        using (var pixels = rand(1, 3, 16, 16)) SafetensorsFile.Save(image, [new("image", pixels)]);
        Assert.Contains("vision_config", Run(ExitCodes.InputError, "score", "--scorer", Path.Combine(Sd15, "text_encoder"), "--processor", ClipFixtures.Folder("tiny-clip"),
            "--images", image, "--prompt", "a fox"));
    }

    [Fact]
    public void Eval_of_the_teacher_in_its_own_place_has_zero_mse_and_the_scores_of_score()
    {
        var unet = Path.Combine(Sd15, "unet");
        string grid = _temp.File("grid.png"), clip = ClipFixtures.Folder("tiny-clip");
        using var json = JsonDocument.Parse(Run(0, "eval", "--model", Sd15, "--unet-spec", Path.Combine(unet, "config.json"),
            "--unet-weights", Path.Combine(unet, "diffusion_pytorch_model.safetensors"), "--prompt", "a red fox", "--prompt", "a blue car",
            "--scorer", clip, "--steps", "2", "--grid", grid, "--json"));
        var root = json.RootElement;
        Assert.Equal(0, root.GetProperty("teacher_image_mse").GetProperty("value").GetDouble());
        var scores = root.GetProperty("scores").EnumerateArray().Select(s => s.GetDouble()).ToArray();
        Assert.Equal(scores.Average(), root.GetProperty("score").GetProperty("value").GetDouble(), 12);
        Assert.True(File.Exists(grid));

        // the same images through generate and score: the same scores
        var images = _temp.File("images.safetensors");
        Run(0, "generate", "--model", Sd15, "--prompt", "a red fox", "--prompt", "a blue car", "--steps", "2", "--seed", "0", "--output", images);
        using var scored = JsonDocument.Parse(Run(0, "score", "--scorer", clip, "--images", images, "--prompt", "a red fox", "--prompt", "a blue car", "--json"));
        var expected = scored.RootElement.GetProperty("scores").EnumerateArray().Select(s => s.GetDouble()).ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(expected[i], scores[i], 9);
    }

    [Fact]
    public void Score_prints_the_reference_clip_scores()
    {
        var reference = ClipFixtures.Tensors("tiny-clip.io.safetensors");
        var prompts = ClipFixtures.Prompts("tiny-clip.io.json").Take(3).ToList();
        var images = _temp.File("images.safetensors");
        SafetensorsFile.Save(images, [new("image", reference["images"])]);
        var args = new List<string> { "score", "--scorer", ClipFixtures.Folder("tiny-clip"), "--images", images, "--json" };
        foreach (var p in prompts) args.AddRange(["--prompt", p]);
        using var json = JsonDocument.Parse(Run(0, [.. args]));
        var scores = json.RootElement.GetProperty("scores").EnumerateArray().Select(s => s.GetDouble()).ToArray();
        var expected = reference["clip_score"].data<float>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            log.WriteLine($"score[{i}] {scores[i]:F6} vs clip_score {expected[i]:F6}: {Math.Abs(scores[i] - expected[i]):E2}");
            Assert.True(Math.Abs(scores[i] - expected[i]) <= 1e-3, $"score[{i}] {scores[i]} vs {expected[i]}");
        }
        foreach (var t in reference.Values) t.Dispose();
    }
}
