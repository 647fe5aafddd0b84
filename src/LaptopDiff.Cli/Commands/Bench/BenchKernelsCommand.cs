using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Kernels;

namespace LaptopDiff.Cli.Commands.Bench;

/// <summary>
/// <c>laptop-diff bench kernels [--json] [--iterations N] [--threads T]</c>: each fused kernel against the
/// unfused TorchSharp composition at digits and SD-1.5 stage shapes, with the measured copy bandwidth.
/// </summary>
public static class BenchKernelsCommand
{
    private static readonly JsonOption JsonOption = CommonOptions.Json("copy_gbps and results (kernel, shape, path, ms, baseline_ms, speedup, gbps)");
    private static readonly Option<int> IterationsOption = new("--iterations") { Description = "Timed iterations per case (the median is reported)", DefaultValueFactory = _ => 9 };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();

    private const string Details = """
        The fused kernels (batched ablation loss; normalized feature loss forward+backward) against the
        unfused TorchSharp composition at digits and SD-1.5 stage shapes, with the machine's measured copy
        bandwidth for reference. Measured figures: kernels/README.md.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("kernels", "Time the ablation-loss and normalized feature-loss kernels against unfused TorchSharp", Details)
        {
            JsonOption, IterationsOption, ThreadsOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            int iterations = parse.GetValue(IterationsOption);
            if (iterations < 1) throw new OptionValueException("--iterations must be at least 1");
            var report = KernelBenchmark.Run(new KernelBenchmarkOptions
            {
                Iterations = iterations, Tuning = KernelTuning.MatchingTorch(), Log = line => context.Error.WriteLine($"[bench] {line}"),
            });
            context.Out.WriteLine(parse.GetValue(JsonOption) ? report.ToJson() : report.ToTable());
            return ExitCodes.Ok;
        }));
        return command;
    }
}
