using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.Merge;

/// <summary><c>laptop-diff merge SHARD... --output C.json [--spec S] [--json]</c>: joins the criteria of <c>sweep --shard k/n</c> runs.</summary>
public static class MergeCommand
{
    private static readonly Argument<FileInfo[]> ShardsArgument = new("shards") { Description = "The shard criteria (each with its SHARD.sweep.json record beside it)", Arity = ArgumentArity.OneOrMore };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("The full criterion to write");
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("Also check the merged criterion against this spec", required: false);
    private static readonly JsonOption JsonOption = CommonOptions.Json("criterion, record, shards, units, samples, teacher_forwards, elapsed_seconds");

    private const string Details = """
        Joins the criteria of sweep --shard k/n runs, each read with the SHARD.sweep.json record beside
        it, after checking that they share spec, weights, calibration and noising and cover every prunable
        unit exactly once. The result equals an unsharded sweep's criterion. build/cluster/ runs it after
        the shards of a Slurm job array or a Kubernetes Indexed Job (sweep --shard auto).
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("merge", "Merge shard criteria from 'sweep --shard k/n' into one criterion", Details)
        {
            ShardsArgument, OutputOption, SpecOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var shards = parse.GetValue(ShardsArgument)!.Select(f => f.FullName).ToList();
            UNetLayout? layout = parse.GetValue(SpecOption) is { } spec ? SpecFiles.LoadLayout(spec.FullName) : null;
            var o = ShardMerge.Run(shards, parse.GetValue(OutputOption)!.FullName, layout);
            if (parse.GetValue(JsonOption))
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    criterion = o.CriterionPath, record = o.RecordPath, shards = o.Shards, units = o.Criterion.Units.Count,
                    samples = o.Record.Identity.Samples, teacher_forwards = o.Record.TeacherForwards, elapsed_seconds = Math.Round(o.Record.ElapsedSeconds, 3),
                }, JsonOptions.Indented));
            else
                context.Out.WriteLine(FormattableString.Invariant(
                    $"wrote {o.CriterionPath}: {o.Criterion.Units.Count} units from {o.Shards} shard(s) over {o.Record.Identity.Samples} samples ({o.Record.TeacherForwards} teacher forwards, {o.Record.ElapsedSeconds:F2} s in all). Record: {o.RecordPath}"));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
