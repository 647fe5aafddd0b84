using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Schedulers;
using Spectre.Console;

namespace LaptopDiff.Cli.Commands.Inspect;

/// <summary><c>inspect --model DIR</c>: a pipeline folder's components as <see cref="PipelineInspection"/> reads them.</summary>
internal static class InspectModel
{
    public static int Run(CliContext context, string directory, string? variant, bool json)
    {
        var summary = PipelineInspection.Inspect(PipelineFolder.OpenStructure(directory, variant));
        if (json) context.Out.WriteLine(JsonSerializer.Serialize(ToJson(summary), JsonOptions.Indented));
        else WriteTable(context.Out, summary);
        return ExitCodes.Ok;
    }

    internal static object ToJson(PipelineSummary s) => new
    {
        directory = s.Directory,
        pipeline = s.ClassName,
        diffusers_version = s.DiffusersVersion,
        variant = s.Variant,
        default_scheduler = s.DefaultScheduler.ClassName(),
        total_params = s.TotalParamCount,
        components = s.Components.Select(c => new
        {
            name = c.Name, library = c.Library, @class = c.ClassName, @params = c.ParamCount, dtypes = c.DTypes, detail = c.Detail,
        }),
        unused = s.Unused.Select(u => new { name = u.Name, library = u.Library, @class = u.ClassName }),
    };

    private static void WriteTable(TextWriter output, PipelineSummary s)
    {
        var console = Consoles.For(output);
        var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape($"{s.ClassName}: {s.Directory}"));
        table.AddColumns("component", "class");
        table.AddColumn(new TableColumn("params").RightAligned());
        table.AddColumn("weights (tensors by dtype) or settings");
        foreach (var c in s.Components)
            table.AddRow(c.Name, Markup.Escape($"{c.Library} {c.ClassName}"), c.ParamCount?.ToString("N0", CultureInfo.InvariantCulture) ?? "-", Markup.Escape(c.Detail));
        console.Write(table);
        output.WriteLine($"total parameters: {s.TotalParamCount.ToString("N0", CultureInfo.InvariantCulture)}");
        if (s.Unused.Count > 0) output.WriteLine($"unused optional components: {string.Join(", ", s.Unused)}");
    }
}
