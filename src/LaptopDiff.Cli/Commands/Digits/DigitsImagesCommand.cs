using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Digits;

namespace LaptopDiff.Cli.Commands.Digits;

/// <summary>
/// <c>laptop-diff digits-images --mnist F --split train|heldout --output DIR [--captions training|heldout] [--seed 0]</c>:
/// one MNIST split as a captioned image folder (32x32 RGB PNGs + metadata.jsonl), the input of train-vae and dataset.
/// </summary>
public static class DigitsImagesCommand
{
    private static readonly Option<FileInfo> MnistOption = new("--mnist") { Description = "The MNIST file", DefaultValueFactory = _ => new FileInfo(Path.Combine("models", "digits", "mnist.safetensors")) };
    private static readonly Option<string> SplitOption = new("--split") { Description = "train or heldout", DefaultValueFactory = _ => "train" };
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>("The image folder to create (must not exist)");
    private static readonly Option<string> CaptionsOption = new("--captions") { Description = "training (a seeded training template per image) or heldout (the held-out phrasings in turn)", DefaultValueFactory = _ => "training" };
    private static readonly Option<int?> CountOption = new("--count") { Description = "Write only the first N digits of the split (default: all)" };
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the caption choice");

    private const string Details = """
        Writes OUTPUT/ with one 32x32 RGB PNG per digit (R = G = B) and metadata.jsonl (file_name, text). Training
        captions: one seeded training template per image; held-out captions: the held-out phrasings in turn. The
        folder is written atomically.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("digits-images", "Write an MNIST split as a captioned image folder (32x32 RGB PNGs + metadata.jsonl with file_name and text)", Details)
        {
            MnistOption, SplitOption, OutputOption, CaptionsOption, CountOption, SeedOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var split = parse.GetValue(SplitOption) switch
            {
                "train" => MnistSplit.Train,
                "heldout" => MnistSplit.HeldOut,
                var other => throw new OptionValueException($"--split '{other}': expected train or heldout"),
            };
            var captions = parse.GetValue(CaptionsOption) switch
            {
                "training" => CaptionSet.Training,
                "heldout" => CaptionSet.HeldOut,
                var other => throw new OptionValueException($"--captions '{other}': expected training or heldout"),
            };
            var count = parse.GetValue(CountOption);
            if (count < 1) throw new OptionValueException($"--count must be at least 1, got {count}");
            var output = parse.GetValue(OutputOption)!.FullName;
            using var digits = MnistDigits.Load(parse.GetValue(MnistOption)!.FullName, split);
            MnistImageFolder.Write(digits, output, captions, parse.GetValue(SeedOption), count);
            context.Out.WriteLine($"wrote {Math.Min(count ?? digits.Count, digits.Count)} images with {captions.ToString().ToLowerInvariant()} captions to {output}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
