using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Cli.Commands.Train;

/// <summary>
/// <c>laptop-diff train --spec SPEC --data TRAIN.safetensors [--conditioner new:C:T | FILE] --steps N --output DIR ...</c>:
/// trains a U-Net (a teacher) from scratch on the eps-prediction task loss.
/// </summary>
public static class TrainCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The model's *.unet.yaml spec or diffusers config.json");
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
            SpecOption, ConditionerOption, InitOption,
        };
        shared.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
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
