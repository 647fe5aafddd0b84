using System.CommandLine;
using LaptopDiff.Cli.Commands.Sweep;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Cli.Commands.Calibration;

/// <summary>
/// <c>laptop-diff calibration --spec S (--synthetic N | --mnist FILE [--split train|heldout]) --output CALIB.safetensors [--seed S] [--tokens T]</c>.
/// </summary>
public static class CalibrationCommand
{
    private static readonly Option<FileInfo> SpecOption = new("--spec") { Description = "A *.unet.yaml spec or a diffusers config.json", Required = true };
    private static readonly Option<int?> SyntheticOption = new("--synthetic") { Description = "Write N seeded random samples of the spec's shapes (smoke tests, benchmarks)" };
    private static readonly Option<FileInfo?> MnistOption = new("--mnist") { Description = "Write the digits of this MNIST file (models/digits/mnist.safetensors) as latents + class labels" };
    private static readonly Option<string> SplitOption = new("--split") { Description = "With --mnist: train or heldout", DefaultValueFactory = _ => "train" };
    private static readonly Option<FileInfo> OutputOption = new("--output") { Description = "Calibration file to write (.safetensors)", Required = true };
    private static readonly Option<long> SeedOption = new("--seed") { Description = "Seed of the random samples", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> TokensOption = new("--tokens") { Description = "Text tokens T of encoder_hidden_states", DefaultValueFactory = _ => 77 };
    private static readonly Option<int?> SampleSizeOption = new("--sample-size") { Description = "Latent height and width (default: the spec's sample_size)" };

    public static Command Create(CliContext context)
    {
        var command = new Command("calibration", "Write a calibration or training set: synthetic, or the MNIST digits")
        {
            SpecOption, SyntheticOption, MnistOption, SplitOption, OutputOption, SeedOption, TokensOption, SampleSizeOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, () =>
        {
            var layout = SpecFiles.LoadLayout(parse.GetValue(SpecOption)!.FullName);
            var output = parse.GetValue(OutputOption)!.FullName;
            if (parse.GetValue(MnistOption) is { } mnist)
                return MnistCalibration.Write(context, mnist.FullName, parse.GetValue(SplitOption)!, layout, output);
            var samples = parse.GetValue(SyntheticOption)
                ?? throw new InputException("pass --synthetic N or --mnist FILE (real sets of your own latents: see the format in src/LaptopDiff.Runtime/Calibration/README.md)");
            var options = new SyntheticCalibrationOptions
            {
                Samples = samples, Seed = parse.GetValue(SeedOption), Tokens = parse.GetValue(TokensOption), SampleSize = parse.GetValue(SampleSizeOption),
            };
            var dir = Path.GetDirectoryName(output);
            if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
            InputChecks.Checked(() => { SyntheticCalibration.Write(output, layout, options); return 0; });

            var header = SafetensorsFile.ReadHeader(output);
            context.Out.WriteLine($"wrote {output}: {samples} synthetic samples for {layout.Spec.Name} (seed {options.Seed}): " +
                string.Join(", ", header.Entries.Select(e => $"{e.Name} [{string.Join(",", e.Shape)}]")) + $"; {FileDigest.Sha256(output)}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
