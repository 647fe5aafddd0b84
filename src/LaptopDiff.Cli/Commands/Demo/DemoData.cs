using LaptopDiff.Cli.IO;
using LaptopDiff.Digits;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>The prompts the calibration trajectories start from: every training-style caption template for every digit.</summary>
public static class DemoData
{
    public static void WriteTrainingPrompts(string output)
    {
        var prompts = Enumerable.Range(0, DigitCaptions.TrainingTemplates.Count * 2)
            .SelectMany(k => Enumerable.Range(0, MnistDigits.ClassCount).Select(digit => DigitCaptions.ForEvaluation(CaptionSet.Training, digit, k)))
            .Distinct();
        TextOutputs.Write(output, string.Join('\n', prompts) + "\n");
    }
}
