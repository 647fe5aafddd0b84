using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.Generate;

/// <summary>
/// <c>laptop-diff generate --model DIR --prompt P [--prompts FILE] [--negative-prompt N] [--steps 25] [--guidance 7.5]
/// [--scheduler ddim|euler] [--seed S] [--height H --width W] [--unet-spec S --unet-weights W] [--latents IN.safetensors]
/// [--runtime torch|onnx] --output OUT(.png|.safetensors) [--json]</c>.
/// </summary>
public static class GenerateCommand
{
    public const string LatentsTensor = "latents";
    public const string ImageTensor = "image";

    private static readonly PipelineModelOptions Model = new();
    private static readonly PromptInputs Prompts = new();
    private static readonly Option<string?> NegativeOption = new("--negative-prompt") { Description = "Guide away from this text (every prompt). Default: none (SD: the empty prompt; SDXL: zero embeddings, as diffusers)" };
    private static readonly Option<int> StepsOption = new("--steps") { Description = "Denoising steps", DefaultValueFactory = _ => 25 };
    private static readonly Option<double> GuidanceOption = new("--guidance") { Description = "Classifier-free guidance scale; 1 or less runs the conditional half only", DefaultValueFactory = _ => 7.5 };
    private static readonly Option<double> GuidanceRescaleOption = new("--guidance-rescale") { Description = "diffusers' guidance_rescale in 0..1", DefaultValueFactory = _ => 0.0 };
    private static readonly Option<string?> SchedulerOption = new("--scheduler") { Description = "ddim or euler. Default: the folder's scheduler class when implemented (SDXL: Euler), else DDIM from its config (SD-1.5 ships PNDM)" };
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the starting noise: torch.randn with torch.Generator().manual_seed(S), the values diffusers draws on the CPU");
    private static readonly Option<int?> HeightOption = new("--height") { Description = "Image height in pixels, a multiple of 8 (default: the U-Net's sample_size x 8, or from --latents)" };
    private static readonly Option<int?> WidthOption = new("--width") { Description = "Image width in pixels, a multiple of 8 (default as --height)" };
    private static readonly Option<int?> ClipSkipOption = new("--clip-skip") { Description = "diffusers' clip_skip: text encoder layers skipped from the end" };
    private static readonly Option<FileInfo?> UNetSpecOption = new("--unet-spec") { Description = "A student U-Net spec in place of the folder's (a pruned spec whose base: is the folder's unet/config.json or a spec of its structure); needs --unet-weights" };
    private static readonly Option<FileInfo?> UNetWeightsOption = new("--unet-weights") { Description = "The student's weights (.safetensors with exactly its keys, e.g. from prune --student-weights)" };
    private static readonly Option<FileInfo?> LatentsOption = new("--latents") { Description = "Starting noise: tensor 'latents' [N,4,H/8,W/8] (.safetensors), used as diffusers' latents= argument (times init_noise_sigma); replaces --seed" };
    private static readonly Option<string> RuntimeOption = new Option<string>("--runtime")
    {
        Description = "The U-Net's runtime: torch (TorchSharp) or onnx (exported to a temporary ONNX file at load, run by ONNX Runtime at the same --threads)",
        DefaultValueFactory = _ => "torch",
    };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("OUT.png: the image (several prompts: a grid labelled with the prompts); OUT.safetensors: tensors 'latents' (final, as output_type=\"latent\") and 'image' [N,3,H,W] in [0,1] (output_type=\"pt\")");
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the text encoders, the U-Net and the VAE");
    private static readonly JsonOption JsonOption = CommonOptions.Json("what ran and the per-stage timings (text encoding, each denoising step, decoding)");

    private const string Details = """
        Text to image with a Stable Diffusion 1.x/2.x or SDXL pipeline folder, as diffusers' pipelines compute it:
        one batch of all prompts, the classifier-free guidance halves in one U-Net batch. Progress goes to
        stderr. A prompt longer than the tokenizer's 77 tokens is cut with a warning, as diffusers does.
        The folder's scheduler class samples when implemented (SDXL: Euler); otherwise (SD-1.5 ships PNDM) DDIM
        from its config, with a note. A pruned student samples in place of the U-Net with --unet-spec and
        --unet-weights (a spec whose base: is the folder's unet/config.json). With --runtime onnx the
        U-Net (the folder's or the student) is exported as export-onnx writes it and each denoising step
        runs in ONNX Runtime; the text encoders, the scheduler and the VAE stay in TorchSharp.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("generate", "Generate images from prompts with a diffusers pipeline folder", Details);
        Model.AddTo(command);
        Prompts.AddTo(command);
        foreach (var option in new Option[]
                 {
                     NegativeOption, StepsOption, GuidanceOption, GuidanceRescaleOption, SchedulerOption, SeedOption, HeightOption, WidthOption, ClipSkipOption,
                     UNetSpecOption, UNetWeightsOption, LatentsOption, RuntimeOption, OutputOption, ThreadsOption, DeviceOption, JsonOption,
                 })
            command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(context, parse, () => Run(context, parse)));
        return command;
    }

    private static int Run(CliContext context, ParseResult parse)
    {
        // 1. the command line
        int steps = parse.GetValue(StepsOption);
        if (steps < 1) throw new OptionValueException($"--steps must be at least 1, got {steps}");
        var output = parse.GetValue(OutputOption)!.FullName;
        var format = OutputFormat(output);
        var scheduler = ParseScheduler(parse.GetValue(SchedulerOption));
        var student = Student(parse);
        bool seedGiven = parse.GetResult(SeedOption) is { Implicit: false };
        if (parse.GetValue(LatentsOption) is not null && seedGiven)
            throw new UsageException("--latents and --seed exclude each other: the latents are the starting noise a seed would draw");
        var prompts = Prompts.Read(parse);
        var runtime = parse.GetValue(RuntimeOption) switch
        {
            "torch" => UNetRuntime.Torch,
            "onnx" => UNetRuntime.Onnx,
            var other => throw new OptionValueException($"--runtime '{other}' is not one of torch, onnx"),
        };
        var device = DeviceOption.Read(parse);
        if (runtime == UNetRuntime.Onnx && device.type != TorchSharp.DeviceType.CPU)
            throw new OptionValueException($"--runtime onnx runs the U-Net in ONNX Runtime on the CPU; with --device {device} use --runtime torch");

        // 2. the inputs, checked before any weights load (exit 2)
        var folder = Model.Open(parse);
        using var latents = parse.GetValue(LatentsOption) is { } file ? ReadLatents(file.FullName) : null;
        var request = new TextToImageRequest
        {
            Prompts = prompts, NegativePrompt = parse.GetValue(NegativeOption), Steps = steps, GuidanceScale = parse.GetValue(GuidanceOption),
            GuidanceRescale = parse.GetValue(GuidanceRescaleOption), Scheduler = scheduler, Seed = parse.GetValue(LatentsOption) is null ? parse.GetValue(SeedOption) : null,
            InitialLatents = latents, Height = parse.GetValue(HeightOption), Width = parse.GetValue(WidthOption), ClipSkip = parse.GetValue(ClipSkipOption),
        };
        var plan = TextToImagePlan.Create(folder, request);
        var dir = Path.GetDirectoryName(output);
        if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");

        // 3. load and run
        bool json = parse.GetValue(JsonOption);
        context.Error.WriteLine($"[generate] loading {folder.Directory} ({folder.ClassName}{(student is null ? "" : $", U-Net {student.SpecPath}")}" +
                                $"{(runtime == UNetRuntime.Onnx ? ", U-Net exported to ONNX Runtime" : "")})");
        using var pipeline = TextToImagePipeline.Load(folder, student, runtime, device);
        if (plan.SchedulerNote is { } note) context.Error.WriteLine($"note: {note}");
        using var result = GenerateProgressView.Run(context.Error, "generate", progress => pipeline.Generate(request, progress));
        foreach (var line in TruncationWarnings(result.Truncations, prompts.Count)) context.Error.WriteLine(line);

        // 4. outputs (atomic)
        if (format == ".png")
        {
            if (prompts.Count == 1) PngImages.Write(output, result.Images!);
            else PngImages.WriteGrid(output, result.Images!, prompts);
        }
        else
            SafetensorsFile.Save(output, [KeyValuePair.Create(LatentsTensor, result.Latents.contiguous()), KeyValuePair.Create(ImageTensor, result.Images!.contiguous())]);

        if (json) context.Out.WriteLine(JsonSerializer.Serialize(ToJson(output, result, pipeline), JsonOptions.Indented));
        else
            context.Out.WriteLine($"wrote {output}: {prompts.Count} image(s) {plan.Width}x{plan.Height}, {plan.Scheduler.Kind.ClassName()} {plan.Steps} steps, " +
                                  $"guidance {plan.Guidance.Scale.ToString(CultureInfo.InvariantCulture)}" +
                                  (result.Seed is { } seed ? $", seed {seed}" : ", given latents") +
                                  (pipeline.Runtime == UNetRuntime.Onnx ? ", U-Net in ONNX Runtime" : "") +
                                  $" ({result.Timings.TotalMs / 1000:F1} s)");
        return ExitCodes.Ok;
    }

    /// <summary>diffusers' warning, once per prompt and removed text (SDXL's two tokenizers usually cut the same words).</summary>
    internal static IEnumerable<string> TruncationWarnings(IReadOnlyList<PromptTruncation> truncations, int promptCount) =>
        truncations.DistinctBy(t => (t.PromptIndex, t.RemovedText)).Select(t =>
            $"warning: {(promptCount > 1 ? $"prompt {t.PromptIndex + 1}: " : "")}the following part of your input was truncated because CLIP can only handle " +
            $"sequences up to {t.MaxTokens} tokens ({t.TokenCount} given, {t.Tokenizer}): {t.RemovedText}");

    internal static SchedulerKind? ParseScheduler(string? name) => name?.ToLowerInvariant() switch
    {
        null => null,
        "ddim" => SchedulerKind.Ddim,
        "euler" => SchedulerKind.EulerDiscrete,
        _ => throw new OptionValueException($"--scheduler '{name}' is not one of ddim, euler"),
    };

    private static string OutputFormat(string output)
    {
        var ext = Path.GetExtension(output).ToLowerInvariant();
        return ext is ".png" or ".safetensors" ? ext
            : throw new OptionValueException($"--output {output}: write a .png (the image or a labelled grid) or a .safetensors (tensors 'latents' and 'image')");
    }

    private static UNetReplacement? Student(ParseResult parse)
    {
        var spec = parse.GetValue(UNetSpecOption);
        var weights = parse.GetValue(UNetWeightsOption);
        if (spec is null && weights is null) return null;
        if (spec is null || weights is null) throw new UsageException("--unet-spec and --unet-weights go together: the student's structure and its weights");
        return new UNetReplacement(spec.FullName, weights.FullName);
    }

    /// <summary>Tensor 'latents' of a safetensors file, float32.</summary>
    internal static Tensor ReadLatents(string path)
    {
        var tensors = SafetensorsFile.Load(path);
        try
        {
            if (!tensors.TryGetValue(LatentsTensor, out var latents))
                throw new InputException($"latents file '{path}' has no tensor '{LatentsTensor}' (it has {string.Join(", ", tensors.Keys.Select(k => $"'{k}'"))}).");
            if (!is_floating_point(latents))
                throw new InputException($"latents file '{path}': tensor '{LatentsTensor}' is {latents.dtype}, expected floating point.");
            return latents.to_type(ScalarType.Float32);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static object ToJson(string output, TextToImageResult result, TextToImagePipeline pipeline)
    {
        var plan = result.Plan;
        var t = result.Timings;
        return new
        {
            output,
            pipeline = pipeline.Folder.ClassName,
            unet = pipeline.UNet.Layout.Spec.Name,
            unet_params = pipeline.UNet.Layout.TotalParamCount,
            runtime = pipeline.Runtime == UNetRuntime.Onnx ? "onnx" : "torch",
            images = plan.Batch,
            height = plan.Height,
            width = plan.Width,
            steps = plan.Steps,
            scheduler = plan.Scheduler.Kind.ClassName(),
            scheduler_note = plan.SchedulerNote,
            guidance = plan.Guidance.Scale,
            seed = result.Seed,
            unet_batch = t.Steps.Count > 0 ? t.Steps[0].UNetBatch : 0,
            truncated = result.Truncations.Select(x => new { prompt = x.PromptIndex, tokenizer = x.Tokenizer, tokens = x.TokenCount, removed = x.RemovedText }),
            timings = new
            {
                text_encoding_ms = t.TextEncodingMs,
                denoising_ms = t.DenoisingMs,
                steps_ms = t.Steps.Select(s => s.ElapsedMs),
                timesteps = t.Steps.Select(s => s.Timestep),
                decoding_ms = t.DecodingMs,
                total_ms = t.TotalMs,
            },
        };
    }
}
