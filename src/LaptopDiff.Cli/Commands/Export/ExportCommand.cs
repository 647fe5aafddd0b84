using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands.Export;

/// <summary>
/// <c>laptop-diff export --model DIR --student-spec S --student-weights W --output NEWDIR [--json]</c>: a complete pipeline
/// folder with the pruned U-Net in place and laptopdiff.json saying what was removed.
/// </summary>
public static class ExportCommand
{
    private static readonly PipelineModelOptions Model = new();
    private static readonly Option<FileInfo> StudentSpecOption = new("--student-spec")
    {
        Description = "The pruned spec (base: the pipeline's unet/config.json, as prune --model writes it) or a distilled student's spec", Required = true,
    };
    private static readonly Option<FileInfo> StudentWeightsOption = new("--student-weights") { Description = "The student's weights (.safetensors, the surviving teacher keys)", Required = true };
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>("The new pipeline folder (must not exist, or be empty)");
    private static readonly JsonOption JsonOption = CommonOptions.Json("output, unet_format, reason, teacher_params, student_params, removed (id, params, one_shot_loss)");

    private const string Details = """
        Copies every component of the pipeline folder except the U-Net, and writes the student as the
        U-Net: a diffusers config.json and diffusion_pytorch_model.safetensors where diffusers can express
        the pruned structure (as export-diffusers), otherwise the teacher's config.json with
        laptopdiff.unet.yaml (the pruned spec, base: config.json) and the surviving tensors under their
        teacher names, which LaptopDiff loads (--model NEWDIR) and diffusers does not. laptopdiff.json
        lists the teacher, the U-Net format and the reason, the method, the ratio asked and achieved, and
        every removed unit with its parameters and one-shot loss (from the pruned spec's provenance).
        The folder is built beside NEWDIR and renamed into place: a failed export leaves nothing.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("export", "Write a pipeline folder with a pruned student U-Net in place of the teacher's, and laptopdiff.json (which units were removed, why)", Details)
        {
            StudentSpecOption, StudentWeightsOption, OutputOption, JsonOption,
        };
        Model.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var folder = Model.Open(parse);
            var student = new UNetReplacement(parse.GetValue(StudentSpecOption)!.FullName, parse.GetValue(StudentWeightsOption)!.FullName);
            var result = PipelineExport.Write(folder, student, parse.GetValue(OutputOption)!.FullName);
            if (parse.GetValue(JsonOption))
                context.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["output"] = result.Directory,
                    ["unet_format"] = result.DiffusersUNet ? "diffusers" : "laptopdiff",
                    ["reason"] = result.Reason,
                    ["teacher_params"] = result.TeacherParams,
                    ["student_params"] = result.StudentParams,
                    ["removed"] = result.Removed.Select(u => new Dictionary<string, object?> { ["id"] = u.Id, ["params"] = u.Params, ["one_shot_loss"] = u.OneShotLoss }),
                }));
            else
            {
                context.Out.WriteLine($"wrote {result.Directory}: U-Net {(result.DiffusersUNet ? "in diffusers' format" : $"as a LaptopDiff spec ({result.Reason})")}, " +
                                      $"{result.StudentParams:N0} of {result.TeacherParams:N0} parameters; {result.Removed.Count} units removed (see {PipelineExport.ManifestFile})");
                foreach (var u in result.Removed)
                    context.Out.WriteLine($"  {u.Id}: {u.Params:N0} params, one-shot loss {(u.OneShotLoss is double l ? l.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) : "(not recorded)")}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
