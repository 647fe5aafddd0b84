using LaptopDiff.Digits.Evaluation;
using System.CommandLine;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Cli.Options;

/// <summary>
/// The CLI's words for the runtime's errors: the flag that sets each runtime setting (a property or parameter
/// named by <see cref="SettingException"/> and <see cref="InputException.Settings"/>, matched without case), used
/// only where the running command has that flag. Unnamed settings keep the runtime's own message.
/// </summary>
internal static class SettingFlags
{
    private static readonly Dictionary<string, string> Flags = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(SweepOptions.BatchSize)] = "--batch",
        [nameof(DigitsEvaluationOptions.Batch)] = "--batch",
        [nameof(SweepOptions.AblationsPerForward)] = "--ablations-per-forward",
        [nameof(SweepOptions.Shard)] = "--shard",
        [nameof(SyntheticCalibrationOptions.Samples)] = "--synthetic",
        [nameof(SyntheticCalibrationOptions.SampleSize)] = "--sample-size",
        [nameof(SyntheticCalibrationOptions.Tokens)] = "--tokens",
        [nameof(AdditivityOptions.Subsets)] = "--subsets",
        [nameof(AdditivityOptions.MinRatio)] = "--min-ratio",
        [nameof(AdditivityOptions.MaxRatio)] = "--max-ratio",
        [nameof(DigitsEvaluationOptions.SamplesPerClass)] = "--samples-per-class",
        [nameof(DigitsEvaluationOptions.MseSamples)] = "--mse-samples",
        [nameof(DigitsEvaluationOptions.GuidanceScale)] = "--guidance",
        [nameof(TrainRequest.Conditioner)] = "--conditioner",
        [nameof(TrainRequest.Resume)] = "--resume",
        [nameof(TrainRequest.OutputDir)] = CommonOptions.OutputName,
        [nameof(SweepRequest.OutputPath)] = CommonOptions.OutputName,
        [nameof(OnnxExportOptions.Opset)] = "--opset",
        [nameof(SweepRequest.Kernels)] = "--kernels",
        [nameof(PruneRequest.Output)] = CommonOptions.OutputName,
        [nameof(PruneRequest.TeacherWeights)] = "--weights",
        [nameof(PruneRequest.StudentWeights)] = "--student-weights",
        [nameof(PruneRequest.Name)] = "--name",
    };

    /// <summary>The flag of <paramref name="setting"/> if <paramref name="command"/> has it.</summary>
    public static string? FlagOf(string setting, Command command) =>
        Flags.TryGetValue(setting, out var flag) && command.Options.Any(o => o.Name == flag) ? flag : null;

    /// <summary>"--batch must be at least 1, got 0" where the command has the flag, else the runtime's message.</summary>
    public static string Describe(SettingException e, Command command) =>
        FlagOf(e.Setting, command) is { } flag ? $"{flag} {e.Requirement}, got {e.Value}" : e.Message;

    /// <summary>The runtime's message, followed by the flags of the settings it names, e.g. "(--resume, --output)".</summary>
    public static string Describe(InputException e, Command command)
    {
        var flags = e.Settings.Select(s => FlagOf(s, command)).OfType<string>().Distinct().ToList();
        return flags.Count == 0 ? e.Message : $"{e.Message} ({string.Join(", ", flags)})";
    }
}
