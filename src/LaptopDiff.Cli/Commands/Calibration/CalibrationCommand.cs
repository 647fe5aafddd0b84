using System.CommandLine;
using LaptopDiff.Cli.Commands.Sweep;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Cli.Commands.Calibration;

/// <summary>
/// <c>laptop-diff calibration --spec S (--synthetic N | --mnist FILE [--split train|heldout]) --output CALIB.safetensors [--seed S] [--tokens T]</c>,
/// or from a pipeline: <c>laptop-diff calibration --model DIR (--prompts FILE | --images DIR) --samples N --output CALIB.safetensors
/// [--seed S] [--steps K] [--guidance G]</c>.
/// </summary>
public static class CalibrationCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec(required: false);
    private static readonly PipelineModelOptions Model = new(required: false);
    private static readonly Option<FileInfo?> PromptsOption = new("--prompts")
    {
        Description = "With --model: prompts of the teacher's trajectories, one per line or a TSV with a Prompt column (e.g. PartiPrompts.tsv)",
    };
    private static readonly Option<DirectoryInfo?> ImagesOption = new("--images")
    {
        Description = "With --model, instead of --prompts: a Hugging Face imagefolder (metadata.jsonl with file_name and text, or a .txt caption beside each image), encoded by the VAE and noised at random timesteps",
    };
    private static readonly Option<int?> SamplesOption = new("--samples") { Description = "With --model: the number of samples N" };
    private static readonly Option<int> StepsOption = new("--steps") { Description = "With --model --prompts: DDIM steps of each trajectory", DefaultValueFactory = _ => 25 };
    private static readonly Option<double> GuidanceOption = new("--guidance") { Description = "With --model --prompts: classifier-free guidance scale of the trajectories", DefaultValueFactory = _ => 7.5 };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the models of the --model pipeline");
    private static readonly Option<int> BatchOption = new("--batch") { Description = "With --model: samples per U-Net/VAE batch (speed and memory only)", DefaultValueFactory = _ => 4 };
    private static readonly Option<int?> SyntheticOption = new("--synthetic") { Description = "Write N seeded random samples of the spec's shapes (smoke tests, benchmarks)" };
    private static readonly Option<FileInfo?> MnistOption = new("--mnist") { Description = "Write the digits of this MNIST file (models/digits/mnist.safetensors) as latents + class labels" };
    private static readonly Option<string> SplitOption = new("--split") { Description = "With --mnist: train or heldout", DefaultValueFactory = _ => "train" };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("Calibration file to write (.safetensors)");
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the random samples");
    private static readonly Option<int> TokensOption = new("--tokens") { Description = "Text tokens T of encoder_hidden_states", DefaultValueFactory = _ => 77 };
    private static readonly Option<int?> SampleSizeOption = new("--sample-size") { Description = "Latent height and width (default: the spec's sample_size)" };

    private const string Details = """
        Writes a set in the calibration format (src/LaptopDiff.Runtime/Calibration/README.md), either
        --synthetic N: N seeded standard-normal latents of the spec's shapes with encoder_hidden_states of
        T tokens (smoke tests, benchmarks), or --mnist FILE: one MNIST split as latents [N,1,32,32] in
        [-1,1] with class labels, a training set for train --conditioner (the spec must be 1 channel at
        32x32).

        With --model DIR (a diffusers pipeline folder, instead of --spec), the set is conditioned as the
        pipeline conditions its U-Net (SD: the text encoder's states; SDXL: both encoders, the pooled
        text_embeds and time_ids) and its latents come either from the teacher's own seeded DDIM
        trajectories over --prompts (data-free: sample j runs prompt j of a seeded order from noise seeded
        seed + j and keeps the state x_t entering a random step, with its timestep, and the x_0 it implies
        as the clean latent), or with --images from captioned images encoded by the VAE and noised at
        stratified timesteps. Unreadable or non-RGB images are skipped and counted; an image without a
        caption is an error. The set also holds the unconditional conditioning guidance uses (the empty
        prompt, or zeros for SDXL folders that force them). sweep, additivity, compare and distill read it
        with --model DIR (or --spec DIR/unet/config.json). Written to a temporary file and renamed.
        --device places the pipeline of --model; --synthetic and --mnist run no model and take only cpu.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("calibration", "Write a calibration or training set: from a pipeline (prompts or captioned images), synthetic, or the MNIST digits", Details)
        {
            SpecOption, SyntheticOption, MnistOption, SplitOption, OutputOption, SeedOption, TokensOption, SampleSizeOption,
            PromptsOption, ImagesOption, SamplesOption, StepsOption, GuidanceOption, BatchOption, ThreadsOption, DeviceOption,
        };
        Model.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            bool fromModel = parse.GetValue(Model.Model) is not null;
            if (fromModel == (parse.GetValue(SpecOption) is not null))
                throw new UsageException(fromModel ? "--model and --spec do not go together: the pipeline's unet/config.json is the spec" : "pass --model DIR (a pipeline folder) or --spec S");
            if (fromModel) return FromPipeline(context, parse);
            foreach (var option in new Option[] { PromptsOption, ImagesOption, SamplesOption })
                if (parse.GetResult(option) is { Implicit: false }) throw new UsageException($"{option.Name} goes with --model DIR");
            if (DeviceOption.Read(parse).type != TorchSharp.DeviceType.CPU)
                throw new UsageException("--device goes with --model: --synthetic and --mnist write their sets on the CPU, with no model to place");
            var layout = SpecFiles.LoadLayout(parse.GetValue(SpecOption)!.FullName);
            var output = parse.GetValue(OutputOption)!.FullName;
            if (parse.GetValue(MnistOption) is { } mnist)
                return MnistCalibration.Write(context, mnist.FullName, parse.GetValue(SplitOption)!, layout, output);
            var samples = parse.GetValue(SyntheticOption)
                ?? throw new UsageException("pass --synthetic N or --mnist FILE (real sets of your own latents: see the format in src/LaptopDiff.Runtime/Calibration/README.md)");
            var options = new SyntheticCalibrationOptions
            {
                Samples = samples, Seed = parse.GetValue(SeedOption), Tokens = parse.GetValue(TokensOption), SampleSize = parse.GetValue(SampleSizeOption),
            };
            var dir = Path.GetDirectoryName(output);
            if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
            SyntheticCalibration.Write(output, layout, options);

            var header = SafetensorsFile.ReadHeader(output);
            context.Out.WriteLine($"wrote {output}: {samples} synthetic samples for {layout.Spec.Name} (seed {options.Seed}): " +
                string.Join(", ", header.Entries.Select(e => $"{e.Name} [{string.Join(",", e.Shape)}]")) + $"; {FileDigest.Sha256(output)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static int FromPipeline(CliContext context, ParseResult parse)
    {
        foreach (var option in new Option[] { SyntheticOption, MnistOption, TokensOption, SampleSizeOption })
            if (parse.GetResult(option) is { Implicit: false }) throw new UsageException($"{option.Name} goes with --spec, not --model");
        var promptsFile = parse.GetValue(PromptsOption);
        var images = parse.GetValue(ImagesOption);
        if ((promptsFile is null) == (images is null))
            throw new UsageException("with --model pass --prompts FILE (the teacher's own trajectories) or --images DIR (captioned images), one of them");
        var samples = parse.GetValue(SamplesOption) ?? throw new UsageException("with --model pass --samples N");
        var output = parse.GetValue(OutputOption)!.FullName;
        int steps = parse.GetValue(StepsOption), batch = parse.GetValue(BatchOption);
        var request = OptionValues.Checked(() => new PipelineCalibrationRequest
        {
            Prompts = promptsFile is null ? [] : PromptFile.Read(promptsFile.FullName),
            ImageFolder = images?.FullName,
            Samples = samples > 0 ? samples : throw new ArgumentException($"--samples {samples}: must be at least 1"),
            Seed = parse.GetValue(SeedOption),
            Steps = steps > 0 ? steps : throw new ArgumentException($"--steps {steps}: must be at least 1"),
            GuidanceScale = parse.GetValue(GuidanceOption),
            BatchSize = batch > 0 ? batch : throw new ArgumentException($"--batch {batch}: must be at least 1"),
        });
        var dir = Path.GetDirectoryName(output);
        if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");

        var folder = Model.Open(parse);
        using var pipeline = TextToImagePipeline.Load(folder, device: DeviceOption.Read(parse));
        using var set = PipelineCalibration.Build(pipeline, request, line => context.Error.WriteLine(line));
        set.Save(output);
        foreach (var t in set.Truncations)
            context.Error.WriteLine($"warning: sample {t.PromptIndex}'s prompt has {t.TokenCount} tokens for {t.Tokenizer}; cut to {t.MaxTokens}, dropping \"{t.RemovedText}\"");
        if (set.Skipped.Count > 0) context.Error.WriteLine($"images {ImageBatch.Describe(set.Skipped)}");
        context.Out.WriteLine($"wrote {output}: {set.Count} samples for {pipeline.UNet.Layout.Spec.Name} (seed {request.Seed}), {set.Metadata[CalibrationFormat.SourceKey]}: " +
            string.Join(", ", set.Tensors.Select(t => $"{t.Key} [{string.Join(",", t.Value.shape)}]")) + $"; {FileDigest.Sha256(output)}");
        return ExitCodes.Ok;
    }
}
