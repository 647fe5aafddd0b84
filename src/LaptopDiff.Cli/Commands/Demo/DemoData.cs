using System.Globalization;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Digits;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// The demo's data files, cut from the shipped MNIST file: the training split as a labelled set (for
/// distillation) and class-balanced subsets whose labels the teacher's conditioner has already turned into
/// encoder_hidden_states (for the sweep, the additivity check and the one-shot comparison, which take
/// text-encoder states like any SD model's calibration set).
/// </summary>
public static class DemoData
{
    public static void WriteTrainingSet(string mnistPath, string output)
    {
        using var digits = MnistDigits.Load(mnistPath, MnistSplit.Train);
        digits.WriteTrainingSet(output);
    }

    /// <summary>The first <paramref name="samples"/>/10 digits of each class of <paramref name="split"/>, with their conditioning.</summary>
    public static void WriteConditionedSubset(string mnistPath, MnistSplit split, int samples, string conditionerPath, string output)
    {
        using var digits = MnistDigits.Load(mnistPath, split);
        using var conditioner = ClassConditioner.Load(conditionerPath);
        conditioner.eval();
        int perClass = Math.Max(1, samples / MnistDigits.ClassCount);
        var index = Enumerable.Range(0, MnistDigits.ClassCount)
            .SelectMany(c => digits.IndicesOf(c).Take(perClass)).Order().ToArray();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var idx = tensor(index);
        var latents = MnistDigits.ToModelInput(digits.Images.index_select(0, idx));
        var states = conditioner.forward(digits.Labels.index_select(0, idx));
        SafetensorsFile.Save(output, [new(CalibrationFormat.Latents, latents), new(CalibrationFormat.EncoderHiddenStates, states)],
            new Dictionary<string, string>
            {
                [CalibrationFormat.FormatKey] = CalibrationFormat.Version,
                [CalibrationFormat.SourceKey] = $"MNIST {split.ToString().ToLowerInvariant()} split, first {perClass} digits of each class, conditioned by {Path.GetFileName(conditionerPath)}",
                [CalibrationFormat.ToolKey] = "laptop-diff demo",
                ["samples"] = index.Length.ToString(CultureInfo.InvariantCulture),
            });
    }
}
