using LaptopDiff.Digits.Evaluation;
using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Cli.Commands.Train;

/// <summary>
/// <c>laptop-diff train --spec SPEC --data TRAIN.safetensors [--conditioner new:C:T | FILE] --steps N --output DIR ...</c>:
/// trains a U-Net (a teacher) from scratch on the eps-prediction task loss; <c>train --model DIR --data SHARDS/
/// [--train-text-encoder [--filler-tokens K]] ...</c> trains a pipeline folder's U-Net (and text encoder) into OUTPUT/pipeline/.
/// </summary>
public static class TrainCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The model's *.unet.yaml spec or diffusers config.json (or --model)", required: false);
    private static readonly Option<DirectoryInfo> ModelOption = new("--model") { Description = "A StableDiffusionPipeline folder to train from (instead of --spec); its scheduler config gives the noise schedule; writes OUTPUT/pipeline/" };
    private static readonly Option<bool> TrainTextEncoderOption = new("--train-text-encoder") { Description = "With --model: train the text encoder with the U-Net from the denoising loss (the data needs input_ids)" };
    private static readonly Option<bool> TextEncoderOnlyOption = new("--text-encoder-only") { Description = "With --model: train only the text encoder, on a caption-to-latent loss (no U-Net); the first stage of a text encoder trained from scratch" };
    private static readonly Option<string> CaptionLossOption = new("--caption-loss") { Description = "With --text-encoder-only: contrastive (CLIP's loss against a tiny latent encoder) or latent (regress the clean latents)", DefaultValueFactory = _ => "contrastive" };
    private static readonly Option<double> CaptionAuxOption = new("--caption-aux") { Description = "With --train-text-encoder: weight of an auxiliary loss in which the states, averaged over positions, predict the clean latents through a small head (not shipped)", DefaultValueFactory = _ => 0.0 };
    private static readonly Option<int> FillerTokensOption = new("--filler-tokens") { Description = "With --train-text-encoder: insert 0 to K random vocabulary tokens into each caption (robustness to unseen words)", DefaultValueFactory = _ => 0 };
    private static readonly Option<string> ConditionerOption = new("--conditioner") { Description = "For sets of class labels: new:CLASSES:TOKENS (a new learned token embedding, trained jointly) or a conditioner .safetensors" };
    private static readonly Option<FileInfo> InitOption = new("--init") { Description = "Initial U-Net weights (default: seeded fresh initialisation)" };

    private const string Details = """
        Trains on the eps-prediction loss: AdamW, timesteps uniform over the training schedule
        (--schedule, --beta-start, --beta-end, --train-steps); data order, noise and dropout seeded per
        sample position. Data in the calibration format; a set of class labels needs a conditioner,
        trained jointly.

        Writes OUTPUT/checkpoints/step-N.safetensors (atomic, the last K kept: weights, AdamW moments,
        EMA, step, run identity), OUTPUT/log.jsonl (every step's terms) and at the end unet.safetensors
        with unet.conditioner.safetensors (unet-ema* with --ema), loss.png and train.json.

        --resume continues exactly (bitwise equal to an uninterrupted run) and refuses a checkpoint of
        other inputs or options (exit 2). SIGINT/SIGTERM writes a checkpoint and exits 130; a NaN or
        infinite loss or gradient stops with the step and term (exit 3), keeping the last good checkpoint.
        """;

    public static Command Create(CliContext context)
    {
        var shared = new TrainingOptionSet();
        var command = new VerbCommand("train", "Train a U-Net from scratch (eps-prediction); resumable checkpoints, log.jsonl, final OUTPUT/unet.safetensors", Details)
        {
            SpecOption, ConditionerOption, InitOption, ModelOption, TrainTextEncoderOption, TextEncoderOnlyOption, CaptionLossOption, FillerTokensOption, CaptionAuxOption,
        };
        shared.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            if (parse.GetValue(ModelOption) is { } model) return RunPipeline(context, parse, shared, model.FullName);
            if (parse.GetValue(SpecOption) is null) throw new UsageException("give --spec (a U-Net) or --model (a pipeline folder)");
            if (parse.GetValue(TrainTextEncoderOption) || parse.GetValue(TextEncoderOnlyOption) || parse.GetResult(FillerTokensOption) is { Implicit: false } || parse.GetResult(CaptionAuxOption) is { Implicit: false })
                throw new UsageException("--train-text-encoder, --text-encoder-only, --filler-tokens and --caption-aux go with --model");
            var options = shared.Read(parse);
            string? conditioner = parse.GetValue(ConditionerOption);
            var request = new TrainRequest
            {
                Layout = SpecFiles.LoadLayout(parse.GetValue(SpecOption)!.FullName),
                DataPath = parse.GetValue(shared.Data)!.FullName,
                Conditioner = conditioner != null ? ConditionerSource.Parse(conditioner) : null,
                InitWeights = parse.GetValue(InitOption)?.FullName,
                Options = options,
                OutputDir = parse.GetValue(shared.Output)!.FullName,
                Resume = parse.GetValue(shared.Resume),
                Device = shared.Device.Read(parse),
            };
            using var signal = new InterruptSignal(ReferenceEquals(context.Error, Console.Error));
            var outcome = TrainingProgressView.Run(context.Error, "train", parse.GetValue(shared.LogEvery),
                (progress, log) => TeacherTraining.Run(request, signal.Token, progress, log));
            return TrainingReport.Write(context, outcome, request.OutputDir, TeacherTraining.WeightsFile, parse.GetValue(shared.Json));
        }));
        return command;
    }

    private static int RunPipeline(CliContext context, ParseResult parse, TrainingOptionSet shared, string model)
    {
        if (parse.GetValue(SpecOption) is not null || parse.GetValue(ConditionerOption) is not null || parse.GetValue(InitOption) is not null)
            throw new UsageException("--model trains the folder's own U-Net and text encoder: --spec, --conditioner and --init do not apply");
        if (shared.Schedule.All.Any(o => parse.GetResult(o) is { Implicit: false }))
            throw new UsageException("--model takes the noise schedule from the folder's scheduler config; drop --schedule, --beta-start, --beta-end and --train-steps");
        bool only = parse.GetValue(TextEncoderOnlyOption);
        bool textEncoder = parse.GetValue(TrainTextEncoderOption) || only;
        int fillers = parse.GetValue(FillerTokensOption);
        if (fillers < 0) throw new OptionValueException($"--filler-tokens must be >= 0, got {fillers}");
        if (fillers > 0 && !textEncoder) throw new UsageException("--filler-tokens needs --train-text-encoder or --text-encoder-only");
        if (!only && parse.GetResult(CaptionLossOption) is { Implicit: false }) throw new UsageException("--caption-loss goes with --text-encoder-only");
        var loss = parse.GetValue(CaptionLossOption) switch
        {
            "contrastive" => CaptionLoss.Contrastive,
            "latent" => CaptionLoss.Latent,
            var other => throw new OptionValueException($"--caption-loss '{other}': expected contrastive or latent"),
        };
        double aux = parse.GetValue(CaptionAuxOption);
        if (!(aux >= 0)) throw new OptionValueException($"--caption-aux must be >= 0, got {aux}");
        if (aux > 0 && (!textEncoder || only)) throw new UsageException("--caption-aux needs --train-text-encoder (--text-encoder-only trains on that loss alone)");
        var request = new PipelineTrainRequest
        {
            ModelDir = model,
            DataPath = parse.GetValue(shared.Data)!.FullName,
            Options = shared.Read(parse),
            TrainTextEncoder = textEncoder,
            TextEncoderOnly = only,
            CaptionLoss = loss,
            FillerTokens = fillers,
            CaptionAuxWeight = aux,
            OutputDir = parse.GetValue(shared.Output)!.FullName,
            Resume = parse.GetValue(shared.Resume),
            Device = shared.Device.Read(parse),
            DescribeTextEncoder = (encoder, tokenizer) => CaptionStateProbe.Measure(encoder, tokenizer).ToString(),
        };
        using var signal = new InterruptSignal(ReferenceEquals(context.Error, Console.Error));
        var outcome = TrainingProgressView.Run(context.Error, "train", parse.GetValue(shared.LogEvery),
            (progress, log) => PipelineTraining.Run(request, signal.Token, progress, log));
        return TrainingReport.Write(context, outcome, request.OutputDir, PipelineTraining.PipelineFolderName, parse.GetValue(shared.Json));
    }
}

/// <summary>The closing line (or JSON object) of <c>train</c> and <c>distill</c>.</summary>
internal static class TrainingReport
{
    public static int Write(CliContext context, TrainingOutcome o, string outputDir, string weightsFile, bool json)
    {
        bool done = o.End == TrainingEnd.Completed;
        string weights = Path.Combine(outputDir, weightsFile);
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                status = done ? "completed" : "interrupted",
                step = o.Step, resumed_from = o.ResumedFrom, checkpoint = o.CheckpointPath,
                weights = done ? weights : null, log = Path.Combine(outputDir, TrainingLog.FileName),
                steps_per_second = Math.Round(o.StepsPerSecond, 4), elapsed_seconds = Math.Round(o.ElapsedSeconds, 3),
                final = o.LastTerms.ToDictionary(t => t.Key, t => t.Value),
            }, JsonOptions.Indented));
        }
        else if (done)
            context.Out.WriteLine(FormattableString.Invariant(
                $"wrote {weights} after {o.Step} steps ({o.StepsPerSecond:F2} steps/s this run, {o.ElapsedSeconds:F1} s in all); final {string.Join(", ", o.LastTerms.Where(t => !t.Key.Contains('/')).Select(t => $"{t.Key} {t.Value:G5}"))}; checkpoint {o.CheckpointPath}"));
        else
            context.Out.WriteLine($"interrupted after step {o.Step}; checkpoint {o.CheckpointPath}; continue with the same command and --resume");
        return done ? ExitCodes.Ok : ExitCodes.Interrupted;
    }
}
