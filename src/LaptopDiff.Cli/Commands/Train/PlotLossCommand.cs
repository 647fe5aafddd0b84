using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Cli.Commands.Train;

/// <summary><c>laptop-diff plot-loss --log DIR/log.jsonl --output loss.png [--terms task,out]</c>: a run's loss curve, also while it trains.</summary>
public static class PlotLossCommand
{
    private static readonly Option<FileInfo> LogOption = new("--log") { Description = "A train or distill run's log.jsonl", Required = true };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("The PNG to write");
    private static readonly Option<string> TermsOption = new("--terms") { Description = "Comma list of logged terms to plot", DefaultValueFactory = _ => DenoisingObjective.TaskTerm };
    private static readonly Option<int> WindowOption = new("--window") { Description = "Steps of the moving average", DefaultValueFactory = _ => 50 };

    private const string Details = """
        A run's loss terms per step on a log scale with a moving average, also while the run trains; train
        writes OUTPUT/loss.png itself at the end.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("plot-loss", "Plot a training run's loss terms per step (log scale, with a moving average) from its log.jsonl", Details)
        {
            LogOption, OutputOption, TermsOption, WindowOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var log = parse.GetValue(LogOption)!.FullName;
            if (!File.Exists(log)) throw new FileNotFoundException($"log not found: {log}", log);
            int window = parse.GetValue(WindowOption);
            if (window < 1) throw new OptionValueException($"--window must be at least 1, got {window}");
            var terms = parse.GetValue(TermsOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (terms.Length == 0) throw new OptionValueException("--terms needs at least one term");
            var rows = TrainingLog.Read(log);
            var missing = terms.FirstOrDefault(t => !rows.Any(r => r.ContainsKey(t)));
            if (missing != null)
                throw new Runtime.Inputs.InputException($"{log} logs no term '{missing}'; it has {string.Join(", ", rows.SelectMany(r => r.Keys).Distinct().Where(k => k is not ("step" or "lr" or "grad_norm" or "elapsed_s")).Take(12))}");
            var output = parse.GetValue(OutputOption)!.FullName;
            var png = LossCurvePlot.RenderPng(rows, terms, window);
            AtomicFile.Write(output, s => s.Write(png));
            context.Out.WriteLine($"wrote {output}: {string.Join(", ", terms)} over {rows.Count} logged steps");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
