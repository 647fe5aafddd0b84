using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.IO;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.ImportDiffusers;

/// <summary><c>laptop-diff import-diffusers CONFIG.json -o SPEC.yaml [--name N]</c>.</summary>
public static class ImportDiffusersCommand
{
    private static readonly Argument<FileInfo> ConfigArgument = new("config") { Description = "A diffusers UNet2DConditionModel config.json" };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("The spec to write (*.unet.yaml)");
    private static readonly Option<string?> NameOption = new("--name") { Description = "Class name of the model (default: from the file name)" };

    private const string Details = """
        Converts a diffusers UNet2DConditionModel config.json into a *.unet.yaml spec of the same
        structure and parameter count, so the model's weights load unchanged. An option the spec format
        cannot express is an error naming it (exit 2).
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("import-diffusers", "Convert a diffusers UNet2DConditionModel config.json into a LaptopDiff spec", Details)
        {
            ConfigArgument, OutputOption, NameOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var config = parse.GetValue(ConfigArgument)!.FullName;
            var output = parse.GetValue(OutputOption)!.FullName;
            var spec = DiffusersConfigImporter.ImportFile(config, parse.GetValue(NameOption));
            var layout = LayoutBuilder.BuildOrThrow(spec, config); // a config diffusers accepts but our layout rejects is still an input error
            var yaml = SpecWriter.Write(spec, $"Imported from {Path.GetFileName(config)} by laptop-diff import-diffusers.\n{layout.TotalParamCount:N0} parameters.");
            TextOutputs.Write(output, yaml);
            context.Out.WriteLine($"wrote {output}: {spec.Name}, {layout.TotalParamCount:N0} parameters, {layout.Units.Count()} units ({layout.PrunableUnits.Count()} prunable)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
