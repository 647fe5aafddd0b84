using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Spec;
using Spectre.Console;

namespace LaptopDiff.Cli.Commands.Inspect;

/// <summary>
/// <c>laptop-diff inspect --spec SPEC [--json]</c>: the layer table and totals; <c>inspect --model DIR [--json]</c>: a pipeline
/// folder's components (<see cref="InspectModel"/>). Neither allocates weights.
/// </summary>
public static class InspectCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec(required: false);
    private static readonly PipelineModelOptions Model = new(required: false);
    private static readonly JsonOption JsonOption = CommonOptions.Json("with --spec: total_params and units (id, kind, stage, params, prunable, reason); with --model: the components");

    private const string Details = """
        With --spec, the layer table of a spec, computed without allocating weights: every component's
        diffusers key prefix, kind, stage and exact parameter count, and for each unit whether it is
        prunable and, if not, why. Totals follow: parameters, units, and the prunable units with their
        share. A pruned spec shows its base's count and the units it removes. With --model, a pipeline
        folder's components: classes, weight dtypes from the file headers and parameter counts from the
        configs; folders without weights or tokenizers work too.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("inspect", "Print a U-Net's layer table (--spec) or a pipeline folder's components (--model)", Details) { SpecOption, JsonOption };
        Model.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var spec = parse.GetValue(SpecOption);
            var model = parse.GetValue(Model.Model);
            if ((spec is null) == (model is null)) throw new UsageException("inspect needs one of --spec SPEC (a U-Net) or --model DIR (a pipeline folder)");
            if (model is not null) return InspectModel.Run(context, model.FullName, parse.GetValue(Model.Variant), parse.GetValue(JsonOption));
            var path = spec!.FullName;
            var layout = SpecFiles.LoadLayout(path);
            if (parse.GetValue(JsonOption)) context.Out.WriteLine(JsonSerializer.Serialize(ToJson(layout), JsonOptions.Indented));
            else WriteTable(context.Out, layout);
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static object ToJson(UNetLayout layout)
    {
        var live = layout.Components.Where(c => !layout.IsRemoved(c.Id)).ToList();
        return new
        {
            name = layout.Spec.Name,
            total_params = layout.TotalParamCount,
            base_params = layout.BaseParamCount,
            removed_params = layout.RemovedParamCount,
            removed = layout.Removed,
            unit_count = live.Count(c => c.IsUnit),
            prunable_count = live.Count(c => c.Prunable),
            prunable_params = live.Where(c => c.Prunable).Sum(c => c.ParamCount),
            units = live.Where(c => c.IsUnit).Select(c => new
            {
                id = c.Id, kind = KindName(c.Kind), stage = c.Stage.Label, @params = c.ParamCount, prunable = c.Prunable, reason = c.Reason,
            }),
            components = live.Select(c => new { id = c.Id, kind = KindName(c.Kind), stage = c.Stage.Label, @params = c.ParamCount, unit = c.IsUnit }),
        };
    }

    private static void WriteTable(TextWriter output, UNetLayout layout)
    {
        var console = Consoles.For(output);
        var table = new Table().Border(TableBorder.Simple).Title($"{layout.Spec.Name}: layer table");
        table.AddColumns("#", "unit (diffusers key prefix)", "kind", "stage");
        table.AddColumn(new TableColumn("params").RightAligned());
        table.AddColumns("prunable", "why");
        int index = 0;
        foreach (var c in layout.Components.Where(c => !layout.IsRemoved(c.Id)))
        {
            table.AddRow(
                (index++).ToString(CultureInfo.InvariantCulture), Markup.Escape(c.Id), KindName(c.Kind), c.Stage.Label,
                c.ParamCount.ToString("N0", CultureInfo.InvariantCulture),
                c.IsUnit ? (c.Prunable ? "yes" : "no") : "-", Markup.Escape(c.Reason));
        }
        console.Write(table);
        var units = layout.Components.Where(c => c.IsUnit && !layout.IsRemoved(c.Id)).ToList();
        var prunable = units.Where(c => c.Prunable).ToList();
        output.WriteLine($"total parameters: {layout.TotalParamCount.ToString("N0", CultureInfo.InvariantCulture)}"
            + (layout.Removed.Count > 0 ? $" (base {layout.BaseParamCount.ToString("N0", CultureInfo.InvariantCulture)}, {layout.Removed.Count} units removed)" : ""));
        output.WriteLine($"units: {units.Count}, prunable: {prunable.Count} holding {prunable.Sum(c => c.ParamCount).ToString("N0", CultureInfo.InvariantCulture)} parameters "
            + $"({100.0 * prunable.Sum(c => c.ParamCount) / layout.TotalParamCount:F1}% of the U-Net)");
    }

    internal static string KindName(ComponentKind kind) => kind switch
    {
        ComponentKind.ConvIn => "conv_in",
        ComponentKind.TimeEmbedding => "time_embedding",
        ComponentKind.AdditionEmbedding => "add_embedding",
        ComponentKind.Resnet => "resnet",
        ComponentKind.Transformer => "transformer",
        ComponentKind.TransformerBlock => "transformer_block",
        ComponentKind.Downsampler => "downsampler",
        ComponentKind.Upsampler => "upsampler",
        ComponentKind.OutputHead => "output_head",
        _ => kind.ToString(),
    };
}
