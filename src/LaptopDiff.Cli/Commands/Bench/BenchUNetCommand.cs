using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Benchmarks;
using LaptopDiff.Runtime.Specs;

namespace LaptopDiff.Cli.Commands.Bench;

/// <summary><c>laptop-diff bench unet --spec S --batch N [--threads T] [--json]</c>.</summary>
public static class BenchUNetCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec();
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Batch size", DefaultValueFactory = _ => 1 };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly Option<int> RunsOption = new("--runs") { Description = "Measured runs (the median is reported)", DefaultValueFactory = _ => 7 };
    private static readonly Option<int> WarmupOption = new("--warmup") { Description = "Warm-up runs before measuring", DefaultValueFactory = _ => 2 };
    private static readonly Option<int> TokensOption = new("--tokens") { Description = "Text tokens in encoder_hidden_states", DefaultValueFactory = _ => 77 };
    private static readonly JsonOption JsonOption = CommonOptions.Json("forward_ms and forward_backward_ms (medians) with each run's times");

    private const string Details = """
        Median times of a forward pass (inference mode) and of a forward+backward of an MSE loss at the
        spec's sample size, after warm-up runs.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("unet", "Time a forward (inference mode) and a forward+backward of an MSE loss at the spec's sample size", Details)
        {
            SpecOption, BatchOption, ThreadsOption, RunsOption, WarmupOption, TokensOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var layout = SpecFiles.LoadLayout(parse.GetValue(SpecOption)!.FullName);
            int batch = parse.GetValue(BatchOption), runs = parse.GetValue(RunsOption), warmup = parse.GetValue(WarmupOption);
            if (batch < 1 || runs < 1 || warmup < 0) throw new OptionValueException("--batch and --runs must be at least 1, --warmup at least 0");
            bool json = parse.GetValue(JsonOption);
            var options = new UNetBenchmarkOptions
            {
                Batch = batch, Threads = parse.GetValue(ThreadsOption), MeasuredRuns = runs, WarmupRuns = warmup, Tokens = parse.GetValue(TokensOption),
            };
            var report = UNetBenchmark.Run(layout, options, json ? null : line => context.Error.WriteLine($"[bench] {line}"));
            if (json)
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    spec = report.Spec, @params = report.ParamCount, batch = report.Batch, threads = report.Threads,
                    sample_size = report.SampleSize, tokens = report.Tokens,
                    forward_ms = report.ForwardMs, forward_backward_ms = report.ForwardBackwardMs,
                    forward_runs_ms = report.ForwardRunsMs, forward_backward_runs_ms = report.ForwardBackwardRunsMs,
                }, JsonOptions.Indented));
            else
                context.Out.WriteLine($"{report.Spec} ({report.ParamCount:N0} params), batch {report.Batch}, {report.Threads} threads, {report.SampleSize}x{report.SampleSize}: "
                    + $"forward {report.ForwardMs:F1} ms, forward+backward {report.ForwardBackwardMs:F1} ms (median of {runs})");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
