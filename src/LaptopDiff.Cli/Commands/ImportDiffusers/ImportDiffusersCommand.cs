using System.CommandLine;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Cli.IO;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.ImportDiffusers;

/// <summary><c>laptop-diff import-diffusers CONFIG.json -o SPEC.yaml [--name N]</c>.</summary>
public static class ImportDiffusersCommand
{
    private static readonly Argument<FileInfo> ConfigArgument = new("config") { Description = "A diffusers UNet2DConditionModel config.json" };
    private static readonly Option<FileInfo> OutputOption = new("--output", "-o") { Description = "The spec to write (*.unet.yaml)", Required = true };
    private static readonly Option<string?> NameOption = new("--name") { Description = "Class name of the model (default: from the file name)" };

    public static Command Create(CliContext context)
    {
        var command = new Command("import-diffusers", "Convert a diffusers UNet2DConditionModel config.json into a LaptopDiff spec")
        {
            ConfigArgument, OutputOption, NameOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, () =>
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
