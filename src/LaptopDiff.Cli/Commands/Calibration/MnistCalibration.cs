using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.Calibration;

/// <summary><c>calibration --mnist FILE --split S</c>: one split of the digits as pixels + labels, for a 32x32x1 spec.</summary>
internal static class MnistCalibration
{
    public static int Write(CliContext context, string mnistPath, string splitName, UNetLayout layout, string output)
    {
        var split = splitName switch
        {
            "train" => MnistSplit.Train,
            "heldout" => MnistSplit.HeldOut,
            _ => throw new OptionValueException($"--split '{splitName}': expected train or heldout"),
        };
        var spec = layout.Spec;
        if (spec.InChannels != 1 || spec.SampleSize != MnistDigits.ModelSide)
            throw new InputException($"{spec.Name} takes {spec.InChannels} channels at {spec.SampleSize}x{spec.SampleSize}; the digits are 1 channel at {MnistDigits.ModelSide}x{MnistDigits.ModelSide} (use models/digits.unet.yaml)");
        var dir = Path.GetDirectoryName(output);
        if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
        using var digits = MnistDigits.Load(mnistPath, split);
        digits.WriteTrainingSet(output);
        context.Out.WriteLine($"wrote {output}: {digits.Count} {splitName} digits (latents [{digits.Count},1,32,32] in [-1,1], labels [{digits.Count}]); {FileDigest.Sha256(output)}");
        return ExitCodes.Ok;
    }
}
