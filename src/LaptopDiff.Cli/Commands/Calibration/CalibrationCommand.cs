using System.CommandLine;
using LaptopDiff.Cli.Commands.Sweep;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Cli.Commands.Calibration;

/// <summary>
/// <c>laptop-diff calibration --spec S (--synthetic N | --mnist FILE [--split train|heldout]) --output CALIB.safetensors [--seed S] [--tokens T]</c>.
/// </summary>
public static class CalibrationCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec();
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
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("calibration", "Write a calibration or training set: synthetic, or the MNIST digits", Details)
        {
            SpecOption, SyntheticOption, MnistOption, SplitOption, OutputOption, SeedOption, TokensOption, SampleSizeOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
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
}
