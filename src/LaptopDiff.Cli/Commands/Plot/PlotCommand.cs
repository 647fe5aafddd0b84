using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Cli.Commands.Plot;

/// <summary>
/// <c>laptop-diff plot RUN_DIR... --output DIR [--json]</c>: compares distillation runs (e.g. normalized vs vanilla):
/// the paper's Figure 3 (un-normalized per-stage feature losses over steps, one line style per run) and Figure 2
/// (the teacher's stage feature norms), and per run the final terms and the stage imbalance (of the MSE and of the relative errors).
/// </summary>
public static class PlotCommand
{
    private static readonly Argument<DirectoryInfo[]> RunsArgument = new("runs") { Description = "distill output folders (each holds log.jsonl); labelled by folder name", Arity = ArgumentArity.OneOrMore };
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>("Folder for feature-losses.png and teacher-feature-norms.png");
    private static readonly JsonOption JsonOption = CommonOptions.Json("output, stages and runs (task, out, imbalance, relative_imbalance, feat_mse, feat_relative, steps_per_second)");

    private const string Details = """
        Compares distill runs (e.g. normalized vs vanilla): feature-losses.png (the un-normalized
        per-stage feature MSE over steps, a line style per run: the paper's Figure 3),
        teacher-feature-norms.png (Figure 2), and per run the final task and output terms, the per-stage
        MSE and relative error, and the stage imbalance (max/min) of each, averaged over the last 10% of
        steps.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("plot", "Compare distillation runs: per-stage feature losses over steps (Figure 3), teacher feature norms (Figure 2), stage imbalance", Details)
        {
            RunsArgument, OutputOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var runs = new List<(string Run, IReadOnlyList<IReadOnlyDictionary<string, double>> Rows)>();
            foreach (var dir in parse.GetValue(RunsArgument)!)
            {
                var log = Path.Combine(dir.FullName, TrainingLog.FileName);
                if (!File.Exists(log)) throw new InputException($"'{dir.FullName}' has no {TrainingLog.FileName}; pass distill output folders");
                List<IReadOnlyDictionary<string, double>> rows;
                try { rows = TrainingLog.Read(log).ToList(); }
                catch (JsonException e) { throw new InputException($"'{log}' is not a training log: {e.Message}"); }
                if (rows.Count == 0 || DistillationPlots.Stages(rows).Count == 0)
                    throw new InputException($"'{log}' holds no distillation steps (no teacher_norm/STAGE terms)");
                runs.Add((dir.Name, rows));
            }
            var stages = DistillationPlots.Stages(runs[0].Rows);
            var output = parse.GetValue(OutputOption)!.FullName;
            Directory.CreateDirectory(output);
            DistillationPlots.Write(output, runs, stages);

            var summary = runs.Select(r => new
            {
                run = r.Run, steps = (int)r.Rows[^1]["step"],
                task = DistillationPlots.Final(r.Rows, "task"), @out = DistillationPlots.Final(r.Rows, "out"),
                imbalance = DistillationPlots.Imbalance(r.Rows, stages),
                relative_imbalance = DistillationPlots.Imbalance(r.Rows, stages, "feat_norm"),
                feat_mse = stages.ToDictionary(s => s, s => DistillationPlots.Final(r.Rows, $"feat_mse/{s}")),
                feat_relative = stages.ToDictionary(s => s, s => DistillationPlots.Final(r.Rows, $"feat_norm/{s}")),
                steps_per_second = r.Rows.Count > 1 ? (r.Rows.Count - 1) / (r.Rows[^1]["elapsed_s"] - r.Rows[0]["elapsed_s"]) : double.NaN,
            }).ToList();
            if (parse.GetValue(JsonOption))
                context.Out.WriteLine(JsonSerializer.Serialize(new { output, stages, runs = summary }, JsonOptions.Indented));
            else
            {
                context.Out.WriteLine($"wrote {Path.Combine(output, DistillationPlots.FeatureLossesFile)} and {Path.Combine(output, DistillationPlots.TeacherNormsFile)}; final terms (mean of the last 10% of steps):");
                foreach (var s in summary)
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {s.run}: {s.steps} steps, task {s.task:G4}, out {s.@out:G4}, stage MSE imbalance (max/min) {s.imbalance:G4}, relative {s.relative_imbalance:G4} [{string.Join(", ", s.feat_mse.Select(f => $"{f.Key} {f.Value:G3}"))}], {s.steps_per_second:F2} steps/s"));
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
