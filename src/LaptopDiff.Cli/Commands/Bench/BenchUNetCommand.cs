using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Benchmarks;
using LaptopDiff.Runtime.Specs;

namespace LaptopDiff.Cli.Commands.Bench;

/// <summary><c>laptop-diff bench unet --spec S --batch N [--runtime torch|onnx|both] [--onnx FILE] [--threads T] [--json]</c>.</summary>
public static class BenchUNetCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec();
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Batch size", DefaultValueFactory = _ => 1 };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the U-Net and its inputs");
    private static readonly Option<int> RunsOption = new("--runs") { Description = "Measured runs (the median is reported)", DefaultValueFactory = _ => 7 };
    private static readonly Option<int> WarmupOption = new("--warmup") { Description = "Warm-up runs before measuring", DefaultValueFactory = _ => 2 };
    private static readonly Option<int> TokensOption = new("--tokens") { Description = "Text tokens in encoder_hidden_states", DefaultValueFactory = _ => 77 };
    private static readonly Option<int?> SizeOption = new("--sample-size") { Description = "Latent height and width (default: the spec's sample_size)" };
    private static readonly Option<string> RuntimeOption = new Option<string>("--runtime")
    {
        Description = "torch (TorchSharp forward and forward+backward), onnx (ONNX Runtime forward) or both (the two forwards, interleaved)",
        DefaultValueFactory = _ => "torch",
    };
    private static readonly Option<FileInfo> OnnxOption = new("--onnx") { Description = "An exported U-Net for ONNX Runtime (default: the benchmark's own weights, exported to a temporary file)" };
    private static readonly JsonOption JsonOption = CommonOptions.Json(
        "forward_ms and forward_backward_ms (TorchSharp medians, null when not timed), onnx_forward_ms, onnx_vs_torch_rel_l2, each run's times");

    private const string Details = """
        Median times at the spec's sample size (or --sample-size), after warm-up runs, with seeded
        random weights and inputs. --runtime torch times a TorchSharp forward (inference mode) and a
        forward+backward of an MSE loss. --runtime onnx exports the same weights to a temporary ONNX
        file (or runs --onnx FILE) and times ONNX Runtime's forward; --runtime both times the two
        forwards in one run at the same --threads, alternating run by run so that a change of machine
        load falls on both alike, and reports the speed ratio and how far the outputs are apart.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("unet", "Time a U-Net forward and forward+backward in TorchSharp, or its forward in ONNX Runtime, or both", Details)
        {
            SpecOption, BatchOption, ThreadsOption, DeviceOption, RunsOption, WarmupOption, TokensOption, SizeOption, RuntimeOption, OnnxOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var layout = SpecFiles.LoadLayout(parse.GetValue(SpecOption)!.FullName);
            int batch = parse.GetValue(BatchOption), runs = parse.GetValue(RunsOption), warmup = parse.GetValue(WarmupOption);
            if (batch < 1 || runs < 1 || warmup < 0) throw new OptionValueException("--batch and --runs must be at least 1, --warmup at least 0");
            if (parse.GetValue(SizeOption) is < 1) throw new OptionValueException("--sample-size must be at least 1");
            var runtimes = parse.GetValue(RuntimeOption) switch
            {
                "torch" => UNetRuntimes.Torch,
                "onnx" => UNetRuntimes.Onnx,
                "both" => UNetRuntimes.Both,
                var other => throw new OptionValueException($"--runtime '{other}' is not one of torch, onnx, both"),
            };
            var onnxFile = parse.GetValue(OnnxOption);
            if (onnxFile is not null && runtimes == UNetRuntimes.Torch) throw new UsageException("--onnx needs --runtime onnx or both");
            bool json = parse.GetValue(JsonOption);
            var options = new UNetBenchmarkOptions
            {
                Batch = batch, Threads = parse.GetValue(ThreadsOption), Device = DeviceOption.Read(parse), MeasuredRuns = runs, WarmupRuns = warmup, Tokens = parse.GetValue(TokensOption),
                SampleSize = parse.GetValue(SizeOption), Runtimes = runtimes, OnnxModelPath = onnxFile?.FullName,
            };
            var report = UNetBenchmark.Run(layout, options, json ? null : line => context.Error.WriteLine($"[bench] {line}"));
            var onnx = report.Onnx;
            double? speedup = report.ForwardMs is { } torchMs && onnx is not null ? torchMs / onnx.ForwardMs : null;
            if (json)
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    spec = report.Spec, @params = report.ParamCount, batch = report.Batch, threads = report.Threads,
                    sample_size = report.SampleSize, tokens = report.Tokens, runtime = parse.GetValue(RuntimeOption),
                    forward_ms = report.ForwardMs, forward_backward_ms = report.ForwardBackwardMs,
                    forward_runs_ms = report.ForwardRunsMs, forward_backward_runs_ms = report.ForwardBackwardRunsMs,
                    onnx_model = onnx?.ModelPath, onnx_forward_ms = onnx?.ForwardMs, onnx_forward_runs_ms = onnx?.RunsMs,
                    onnx_vs_torch_rel_l2 = onnx?.RelL2ToTorch, onnx_speedup = speedup,
                }, JsonOptions.Indented));
            else
            {
                var times = new List<string>();
                if (report.ForwardMs is { } forward) times.Add($"TorchSharp forward {forward:F1} ms");
                if (report.ForwardBackwardMs is { } forwardBackward) times.Add($"forward+backward {forwardBackward:F1} ms");
                if (onnx is not null) times.Add($"ONNX Runtime forward {onnx.ForwardMs:F1} ms");
                if (speedup is { } ratio) times.Add($"ONNX Runtime {ratio:F2}x TorchSharp's speed");
                if (onnx?.RelL2ToTorch is { } rel) times.Add($"outputs {rel:E1} apart (rel L2)");
                context.Out.WriteLine($"{report.Spec} ({report.ParamCount:N0} params), batch {report.Batch}, {report.Threads} threads, {report.SampleSize}x{report.SampleSize}: "
                    + $"{string.Join(", ", times)} (median of {runs})");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
