using System.CommandLine;
using System.Text.Json.Nodes;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;

namespace LaptopDiff.Cli.Commands.ExportDiffusers;

/// <summary>
/// <c>laptop-diff export-diffusers --spec S --weights W --output DIR</c>: a (pruned) model as a diffusers model folder
/// where its structure is expressible in diffusers; otherwise exit 2 saying why (the LaptopDiff spec is then the export).
/// </summary>
public static class ExportDiffusersCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The model's spec (*.unet.yaml; a pruned spec resolves its base)");
    private static readonly Option<FileInfo> WeightsOption = new("--weights") { Description = "Its weights (.safetensors, LaptopDiff's key names: the surviving teacher keys)", Required = true };
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>("Folder for config.json and diffusion_pytorch_model.safetensors");
    private static readonly JsonOption JsonOption = CommonOptions.Json("output, config, renamed (keys renumbered)");

    private const string Details = """
        Writes config.json and diffusion_pytorch_model.safetensors (ResNets, transformers and blocks
        renumbered from 0) where diffusers can express the structure: whole layers removed in mirrored
        down/up pairs (BK-SDM), transformer blocks removed with one left per transformer (per-layer
        depths, SSD-1B), every transformer of a stage removed, the mid block cut to its first ResNet or
        removed. The bk-sdm-small and ssd-1b presets export to the published models' configs and key
        lists.

        Anything else (e.g. a lone ResNet or transformer, as the LAPTOP knapsack usually picks) is exit 2
        naming the first obstacle: the LaptopDiff spec and weights are then the export.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("export-diffusers", "Write a (pruned) model as a diffusers UNet2DConditionModel folder, if diffusers can express its structure", Details)
        {
            SpecOption, WeightsOption, OutputOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var layout = SpecFiles.LoadLayout(parse.GetValue(SpecOption)!.FullName);
            var weights = parse.GetValue(WeightsOption)!.FullName;
            var output = parse.GetValue(OutputOption)!.FullName;
            var plan = DiffusersExportPlan.TryCreate(layout, out var reason)
                       ?? throw new InputException($"{layout.Spec.Name} has no diffusers equivalent: {reason}. Its LaptopDiff spec and weights are the export.");
            DiffusersExporter.Write(layout, plan, weights, output);
            if (parse.GetValue(JsonOption))
                context.Out.WriteLine(new JsonObject
                {
                    ["output"] = output,
                    ["config"] = plan.Config.DeepClone(),
                    ["renamed"] = plan.KeyRenames.Count,
                }.ToJsonString());
            else
                context.Out.WriteLine($"wrote {output}: {DiffusersExporter.ConfigFile} + {DiffusersExporter.WeightsFile} ({layout.TotalParamCount:N0} params, {plan.KeyRenames.Count} keys renumbered)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
