using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands.TextToImage;

/// <summary>
/// <c>laptop-diff init-pipeline --structure DIR [--from NAME=DIR ...] [--seed 0] --output DIR</c>: a complete
/// StableDiffusionPipeline folder to train from: the structure's configs, tokenizer and scheduler, some models copied
/// whole (e.g. a trained VAE), the others with seeded fresh weights.
/// </summary>
public static class InitPipelineCommand
{
    private static readonly Option<DirectoryInfo> StructureOption = new("--structure") { Description = "A pipeline folder whose configs, tokenizer and scheduler are used (not its weights)", Required = true };
    private static readonly Option<string[]> FromOption = new("--from") { Description = "NAME=DIR: take model component NAME (config and weights) from DIR, e.g. vae=runs/vae/vae", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the fresh weights (U-Net: seed, text encoder: seed + 1, VAE: seed + 2)");
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>("The pipeline folder to create (must not exist)");

    private const string Details = """
        Copies the structure folder's model_index.json, configs, tokenizer and scheduler config; components
        named with --from are copied whole (config and weights); the U-Net, text encoder and VAE otherwise get
        seeded fresh weights. Written atomically.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("init-pipeline", "Assemble a StableDiffusionPipeline folder to train: a structure's configs, tokenizer and scheduler, given components copied, the rest seeded fresh", Details)
        {
            StructureOption, FromOption, SeedOption, OutputOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var from = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(FromOption) ?? [])
            {
                int eq = pair.IndexOf('=');
                if (eq < 1 || eq == pair.Length - 1) throw new OptionValueException($"--from '{pair}': expected NAME=DIR, e.g. vae=runs/vae/vae");
                if (!from.TryAdd(pair[..eq], pair[(eq + 1)..])) throw new OptionValueException($"--from names '{pair[..eq]}' twice");
            }
            var output = parse.GetValue(OutputOption)!.FullName;
            PipelineInit.Run(new PipelineInitRequest
            {
                StructureDir = parse.GetValue(StructureOption)!.FullName,
                From = from,
                Seed = parse.GetValue(SeedOption),
                OutputDir = output,
            }, line => context.Error.WriteLine($"[init-pipeline] {line}"));
            context.Out.WriteLine($"wrote {output}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
