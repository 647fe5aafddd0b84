using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LaptopDiff.Cli;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Tests.Clip;
using LaptopDiff.Runtime.Tests.Pipelines;
using LaptopDiff.Runtime.Weights;
using TorchSharp;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// <c>--device</c> on every command that runs a model: <c>--device cpu</c> writes byte for byte what the default writes (files,
/// and the printed results of commands whose output is their stdout; timings and run times left out), and on this CPU build of
/// TorchSharp <c>--device cuda</c> is an input error (exit 2) before anything runs. Tiny fixtures only.
/// </summary>
public sealed class DeviceOptionCommandTests
{
    private static readonly Command Root = CliApp.Create(new CliContext(TextWriter.Null, TextWriter.Null));
    private static readonly string Sd15Spec = Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml");
    private static readonly string Sd15Weights = TestPaths.DiffusersFixture("tiny-sd15.safetensors");
    private static readonly string Sd15Criterion = Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.criterion.json");
    private static string Sd15Pipe => PipelineFixtures.Folder(PipelineFixtures.Sd15);
    private static string Clip => ClipFixtures.Folder("tiny-clip");

    /// <summary>Every command that runs a model; each must take --device (train, distill and bench unet/train had it before).</summary>
    public static TheoryData<string> ModelCommands() =>
    [
        "sweep", "additivity", "compare", "calibration", "profile", "generate", "sample", "eval", "eval-digits", "forward", "encode-prompt",
        "score", "dataset", "bench pipeline", "train", "train-vae", "distill", "bench unet", "bench train",
    ];

    /// <summary>The cases run twice below: a verb and, after a colon, which of its forms.</summary>
    public static TheoryData<string> Cases() =>
    [
        "sweep", "additivity", "compare", "calibration:model", "calibration:synthetic", "profile", "generate", "sample", "eval:digits", "eval:model", "eval-digits",
        "forward", "encode-prompt", "score", "dataset", "bench pipeline", "train:model", "train-vae",
    ];

    [Theory]
    [MemberData(nameof(ModelCommands))]
    public void Takes_the_shared_device_option(string path)
    {
        var command = path.Split(' ').Aggregate(Root, (c, name) => c.Subcommands.Single(s => s.Name == name));
        Assert.IsType<DeviceOption>(Assert.Single(command.Options, o => o.Name == DeviceOption.OptionName));
    }

    [Theory]
    [MemberData(nameof(ModelCommands))]
    public void Cuda_on_the_cpu_build_is_an_input_error_before_the_command_runs(string path)
    {
        if (torch.cuda.is_available()) return;   // a CUDA build on a GPU machine accepts it; the meta-device suite covers placement there
        var command = path.Split(' ').Aggregate(Root, (c, name) => c.Subcommands.Single(s => s.Name == name));
        // every required option gets a placeholder: the device is refused before any of them is read
        var required = command.Options.Where(o => o.Required).SelectMany(o => new[] { o.Name, o.ValueType == typeof(int) || o.ValueType == typeof(long) || o.ValueType == typeof(double) ? "1" : "unused" }).ToArray();
        var (code, stdout, error) = CliRunner.Run([.. path.Split(' '), .. required, "--device", "cuda"]);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("--device cuda: this build's TorchSharp has no usable CUDA", error);
        Assert.Equal("", stdout);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Device_cpu_gives_the_default_output_byte_for_byte(string name)
    {
        torch.set_num_threads(1);
        using var temp = new TempFolder();
        var inputs = Directory.CreateDirectory(temp.File("inputs")).FullName;
        var (args, stdoutIsOutput) = Case(name, temp, inputs);

        var plain = Run(args, Directory.CreateDirectory(temp.File("default")).FullName, []);
        var cpu = Run(args, Directory.CreateDirectory(temp.File("cpu")).FullName, ["--device", "cpu"]);

        Assert.NotEmpty(plain.Files.Keys.Concat(stdoutIsOutput ? ["stdout"] : []));
        Assert.Equal(plain.Files.Keys.Order(), cpu.Files.Keys.Order());
        foreach (var (file, bytes) in plain.Files)
            Assert.True(bytes.AsSpan().SequenceEqual(cpu.Files[file]), $"{name}: {file} differs with --device cpu");
        if (stdoutIsOutput) Assert.Equal(plain.Stdout, cpu.Stdout);
    }

    private sealed record Outcome(Dictionary<string, byte[]> Files, string Stdout);

    /// <summary>Runs the command writing into <paramref name="output"/>; its files (JSON without timings) and its stdout (timings and the folder's name left out).</summary>
    private static Outcome Run(Func<string, string[]> args, string output, string[] device)
    {
        var (code, stdout, stderr) = CliRunner.Run([.. args(output), .. device]);
        Assert.True(code == 0, stderr);
        var files = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".md", StringComparison.Ordinal))                          // additivity's summary prints its run time
            .ToDictionary(f => Path.GetRelativePath(output, f), f => Path.GetExtension(f) switch
            {
                ".json" => System.Text.Encoding.UTF8.GetBytes(WithoutTimings(File.ReadAllText(f).Replace(output, "OUT"))),
                ".jsonl" => System.Text.Encoding.UTF8.GetBytes(string.Join("\n", File.ReadLines(f).Select(WithoutTimings))),   // a training log, a line a step
                ".safetensors" => WithoutTimingsInHeader(File.ReadAllBytes(f)),
                _ => File.ReadAllBytes(f),
            });
        return new Outcome(files, WithoutTimings(stdout.Replace(output, "OUT")));
    }

    private static readonly Regex TimingKey = new("(_ms$|_ms_|^ms_|seconds|elapsed|latency|share|created|total_runs|per_second)", RegexOptions.Compiled);

    /// <summary>A safetensors file with its JSON header as <see cref="WithoutTimings"/> leaves it (a checkpoint records its run time) and its data as written.</summary>
    private static byte[] WithoutTimingsInHeader(byte[] file)
    {
        long length = BitConverter.ToInt64(file, 0);                                      // little-endian header size, then the header, then the data
        var header = WithoutTimings(System.Text.Encoding.UTF8.GetString(file, 8, (int)length));
        return [.. System.Text.Encoding.UTF8.GetBytes(header), .. file.AsSpan(8 + (int)length)];
    }

    /// <summary>JSON without the keys that hold times (run times, latencies, their shares, creation stamps); other text as it is.</summary>
    private static string WithoutTimings(string text)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return text; }
        Strip(node);
        return node?.ToJsonString() ?? "";

        static void Strip(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                foreach (var key in o.Select(p => p.Key).Where(k => TimingKey.IsMatch(k)).ToList()) o.Remove(key);
                foreach (var (_, child) in o) Strip(child);
            }
            else if (n is JsonArray a)
                foreach (var child in a) Strip(child);
        }
    }

    /// <summary>The command line of a case for an output folder, and whether its stdout is its result.</summary>
    private static (Func<string, string[]> Args, bool StdoutIsOutput) Case(string name, TempFolder temp, string inputs)
    {
        string Calibration()
        {
            var path = Path.Combine(inputs, "calib.safetensors");
            var (code, _, stderr) = CliRunner.Run("calibration", "--spec", Sd15Spec, "--synthetic", "3", "--tokens", "5", "--sample-size", "8", "--output", path);
            Assert.True(code == 0, stderr);
            return path;
        }
        string Prompts()
        {
            var path = Path.Combine(inputs, "prompts.txt");
            File.WriteAllLines(path, ["a red fox", "a blue car"]);
            return path;
        }
        switch (name)
        {
            case "sweep":
            {
                var calibration = Calibration();
                return (o => ["sweep", "--spec", Sd15Spec, "--weights", Sd15Weights, "--calibration", calibration, "--output", Path.Combine(o, "c.json"),
                    "--batch", "2", "--ablations-per-forward", "2"], false);
            }
            case "additivity":
                return (o => ["additivity", "--spec", Sd15Spec, "--weights", Sd15Weights, "--criterion", Sd15Criterion, "--synthetic", "2",
                    "--subsets", "2", "--seed", "3", "--output", Path.Combine(o, "additivity")], false);
            case "compare":
            {
                var calibration = Calibration();
                return (_ => ["compare", "--spec", Sd15Spec, "--weights", Sd15Weights, "--calibration", calibration, "--criterion", Sd15Criterion,
                    "--ratio", "0.3", "--json"], true);
            }
            case "calibration:model":
            {
                var prompts = Prompts();
                return (o => ["calibration", "--model", Sd15Pipe, "--prompts", prompts, "--samples", "3", "--steps", "2", "--batch", "2",
                    "--output", Path.Combine(o, "c.safetensors")], false);
            }
            case "calibration:synthetic":
                return (o => ["calibration", "--spec", Sd15Spec, "--synthetic", "2", "--tokens", "5", "--sample-size", "8", "--output", Path.Combine(o, "c.safetensors")], false);
            case "profile":
                return (o => ["profile", "--spec", Sd15Spec, "--height", "8", "--width", "8", "--tokens", "5", "--runs", "1", "--warmup", "0",
                    "--output", Path.Combine(o, "p.costs.json")], false);
            case "generate":
                return (o => ["generate", "--model", Sd15Pipe, "--prompt", "a red fox", "--prompt", "a blue car", "--steps", "2", "--seed", "4",
                    "--output", Path.Combine(o, "g.safetensors")], false);
            case "sample":
            {
                var (spec, weights, _) = DigitsCommandTests.WriteModel(temp);
                return (o => ["sample", "--spec", spec, "--weights", weights, "--per-class", "2", "--steps", "2", "--output", Path.Combine(o, "grid.png")], false);
            }
            case "eval:digits":
            {
                var (spec, weights, classifier) = DigitsCommandTests.WriteModel(temp);
                return (_ => ["eval", "--spec", spec, "--weights", weights, "--classifier", classifier, "--mnist", DigitsCommandTests.Mnist,
                    "--teacher-spec", spec, "--teacher-weights", weights, "--samples-per-class", "2", "--steps", "2", "--mse-samples", "4", "--json"], true);
            }
            case "eval:model":
            {
                var unet = Path.Combine(Sd15Pipe, "unet");
                return (_ => ["eval", "--model", Sd15Pipe, "--unet-spec", Path.Combine(unet, "config.json"), "--unet-weights",
                    Path.Combine(unet, "diffusion_pytorch_model.safetensors"), "--prompt", "a red fox", "--scorer", Clip, "--steps", "2", "--json"], true);
            }
            case "eval-digits":
            {
                // the shipped miniature SD and digit classifier; its own U-Net as the student skips the VAE's pass over 1,000 digits
                var sd = Path.Combine(TestPaths.RepoRoot, "models", "digits-sd");
                return (_ => ["eval-digits", "--model", sd, "--unet-spec", Path.Combine(sd, "unet", "config.json"),
                    "--unet-weights", Path.Combine(sd, "unet", "diffusion_pytorch_model.safetensors"),
                    "--classifier", Path.Combine(TestPaths.RepoRoot, "models", "digits", "classifier.safetensors"), "--mnist", DigitsCommandTests.Mnist,
                    "--samples-per-class", "2", "--steps", "2", "--batch", "20", "--json"], true);
            }
            case "forward":
                return (o => ["forward", "--spec", TestPaths.DiffusersFixture("tiny-sdxl.config.json"), "--weights", TestPaths.DiffusersFixture("tiny-sdxl.safetensors"),
                    "--inputs", TestPaths.DiffusersFixture("tiny-sdxl.io.safetensors"), "--output", Path.Combine(o, "out.safetensors")], false);
            case "encode-prompt":
                return (o => ["encode-prompt", "--model", PipelineFixtures.Folder(PipelineFixtures.Sdxl), "--prompt", "a red fox", "--prompt", "a blue car",
                    "--output", Path.Combine(o, "e.safetensors")], false);
            case "score":
            {
                var images = Path.Combine(inputs, "images.safetensors");
                SafetensorsFile.Save(images, [new("image", ClipFixtures.Tensors("tiny-clip.io.safetensors")["images"])]);
                return (_ => ["score", "--scorer", Clip, "--images", images, "--prompt", "a red fox", "--metric", "pick", "--json"], true);
            }
            case "dataset":
            {
                var images = TextToImageFixtures.WriteImages(Path.Combine(inputs, "images"));
                return (o => ["dataset", "--model", Sd15Pipe, "--images", images, "--output", Path.Combine(o, "shards"), "--batch", "2", "--json"], true);
            }
            case "train:model":
            {
                var data = Path.Combine(inputs, "data.safetensors");
                var (code, _, stderr) = CliRunner.Run("calibration", "--spec", Path.Combine(Sd15Pipe, "unet", "config.json"), "--synthetic", "2", "--output", data);
                Assert.True(code == 0, stderr);
                return (o => ["train", "--model", Sd15Pipe, "--data", data, "--steps", "2", "--batch", "2", "--ema", "0.5", "--checkpoint-every", "1",
                    "--output", Path.Combine(o, "run")], false);
            }
            case "train-vae":
            {
                var config = Vae.VaeTrainingRunTests.WriteConfig(Path.Combine(inputs, "vae.json"));
                var images = Vae.VaeTrainingRunTests.WriteImages(Path.Combine(inputs, "images"));
                return (o => ["train-vae", "--config", config, "--images", images, "--steps", "2", "--batch", "2", "--ema", "0.5", "--checkpoint-every", "1",
                    "--output", Path.Combine(o, "run")], false);
            }
            case "bench pipeline":
                return (_ => ["bench", "pipeline", "--model", Sd15Pipe, "--steps", "2", "--batch", "1", "--runs", "1", "--warmup", "0", "--json"], true);
            default:
                throw new ArgumentException(name);
        }
    }
}
