using System.CommandLine;
using System.Text.Json;
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
    private static readonly Option<FileInfo> SpecOption = new("--spec") { Description = "The model's *.unet.yaml spec or diffusers config.json (or --model)" };
    private static readonly Option<DirectoryInfo> ModelOption = new("--model") { Description = "A StableDiffusionPipeline folder to train from (instead of --spec); its scheduler config gives the noise schedule; writes OUTPUT/pipeline/" };
    private static readonly Option<bool> TrainTextEncoderOption = new("--train-text-encoder") { Description = "With --model: train the text encoder with the U-Net from the denoising loss (the data needs input_ids)" };
    private static readonly Option<double> CaptionAuxOption = new("--caption-aux") { Description = "With --train-text-encoder: weight of an auxiliary loss in which the states, averaged over positions, predict the clean latents through a small head (not shipped)", DefaultValueFactory = _ => 0.0 };
    private static readonly Option<int> FillerTokensOption = new("--filler-tokens") { Description = "With --train-text-encoder: insert 0 to K random vocabulary tokens into each caption (robustness to unseen words)", DefaultValueFactory = _ => 0 };
    private static readonly Option<string> ConditionerOption = new("--conditioner") { Description = "For sets of class labels: new:CLASSES:TOKENS (a new learned token embedding, trained jointly) or a conditioner .safetensors" };
    private static readonly Option<FileInfo> InitOption = new("--init") { Description = "Initial U-Net weights (default: seeded fresh initialisation)" };

    public static Command Create(CliContext context)
    {
        var shared = new TrainingOptionSet();
        var command = new Command("train", "Train a U-Net from scratch (eps-prediction); resumable checkpoints, log.jsonl, final OUTPUT/unet.safetensors")
        {
            SpecOption, ConditionerOption, InitOption, ModelOption, TrainTextEncoderOption, FillerTokensOption, CaptionAuxOption,
        };
        shared.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, () =>
        {
            if (parse.GetValue(ModelOption) is { } model) return RunPipeline(context, parse, shared, model.FullName);
            if (parse.GetValue(SpecOption) is null) throw new UsageException("give --spec (a U-Net) or --model (a pipeline folder)");
            if (parse.GetValue(TrainTextEncoderOption) || parse.GetResult(FillerTokensOption) is { Implicit: false } || parse.GetResult(CaptionAuxOption) is { Implicit: false })
                throw new UsageException("--train-text-encoder, --filler-tokens and --caption-aux go with --model");
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
        bool textEncoder = parse.GetValue(TrainTextEncoderOption);
        int fillers = parse.GetValue(FillerTokensOption);
        if (fillers < 0) throw new UsageException($"--filler-tokens must be >= 0, got {fillers}");
        if (fillers > 0 && !textEncoder) throw new UsageException("--filler-tokens needs --train-text-encoder");
        double aux = parse.GetValue(CaptionAuxOption);
        if (!(aux >= 0)) throw new UsageException($"--caption-aux must be >= 0, got {aux}");
        if (aux > 0 && !textEncoder) throw new UsageException("--caption-aux needs --train-text-encoder");
        var request = new PipelineTrainRequest
        {
            ModelDir = model,
            DataPath = parse.GetValue(shared.Data)!.FullName,
            Options = shared.Read(parse),
            TrainTextEncoder = textEncoder,
            FillerTokens = fillers,
            CaptionAuxWeight = aux,
            OutputDir = parse.GetValue(shared.Output)!.FullName,
            Resume = parse.GetValue(shared.Resume),
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
