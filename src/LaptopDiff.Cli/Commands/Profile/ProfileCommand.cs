using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Benchmarks;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.Profile;

/// <summary>
/// <c>laptop-diff profile --spec S | --model DIR [--batch B] [--height H --width W] [--threads T] [--runs N] --output COSTS.json [--json]</c>:
/// the U-Net's cost profile on this machine (<see cref="CostProfiler"/>), the file a flops or latency budget of prune reads.
/// </summary>
public static class ProfileCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec(CommonOptions.AnySpec + " (or give --model)", required: false);
    private static readonly Option<DirectoryInfo> ModelOption = CommonOptions.Model(
        CommonOptions.PipelineFolderDescription + ": its unet/config.json is the spec profiled (or give --spec)", required: false);
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Batch size", DefaultValueFactory = _ => 1 };
    private static readonly Option<int?> HeightOption = new("--height") { Description = "Latent height (default: the spec's sample_size)" };
    private static readonly Option<int?> WidthOption = new("--width") { Description = "Latent width (default: the spec's sample_size)" };
    private static readonly Option<int> TokensOption = new("--tokens") { Description = "Text tokens in encoder_hidden_states", DefaultValueFactory = _ => 77 };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the model and its inputs");
    private static readonly Option<int> RunsOption = new("--runs") { Description = "Timed runs (medians and interquartile ranges are recorded)", DefaultValueFactory = _ => 5 };
    private static readonly Option<int> WarmupOption = new("--warmup") { Description = "Warm-up steps before timing", DefaultValueFactory = _ => 1 };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("The costs file to write (JSON, e.g. x.costs.json)");
    private static readonly JsonOption JsonOption = CommonOptions.Json("the costs file's content: format, spec, device, batch, height, width, tokens, runs, step and units");

    private const string Details = """
        For every prunable unit: its parameters, its FLOPs counted from the layout (2 x multiply-adds of
        convolutions, linear layers and attention matmuls; docs/pruning.md gives the rule per op) and its
        measured latency: the median over --runs of the unit's own forward inside a full step, with the
        interquartile range. The same for one whole step: parameters, FLOPs, the median of uninstrumented
        steps, and fixed_latency_ms, the part no prunable unit runs (conv_in, embeddings, resamplers,
        transformer shells, non-prunable ResNets, the head), each step's median summed. Seeded random weights and inputs (time does not depend on the values), inference
        mode. The file records the spec's structure hash, the device, batch, height, width, tokens and runs;
        `prune --budget latency --costs FILE` refuses a file of another spec, batch or resolution. A pruned
        spec is profiled too (its step time is what a budget predicted), but prunes nothing.
        The text output ends with the residual: (sum of units + fixed - step) / step.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("profile", "Measure each prunable unit's parameters, FLOPs and latency inside a full U-Net step, and the step's totals (a costs file for prune --budget)", Details)
        {
            SpecOption, ModelOption, BatchOption, HeightOption, WidthOption, TokensOption, ThreadsOption, DeviceOption, RunsOption, WarmupOption, OutputOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var specPath = SpecPath(parse);
            int batch = parse.GetValue(BatchOption), tokens = parse.GetValue(TokensOption), runs = parse.GetValue(RunsOption), warmup = parse.GetValue(WarmupOption);
            int? height = parse.GetValue(HeightOption), width = parse.GetValue(WidthOption);
            if (batch < 1 || tokens < 1 || runs < 1 || warmup < 0 || height < 1 || width < 1)
                throw new OptionValueException("--batch, --height, --width, --tokens and --runs must be at least 1, --warmup at least 0");
            var output = parse.GetValue(OutputOption)!.FullName;
            if (!Directory.Exists(Path.GetDirectoryName(output))) throw new DirectoryNotFoundException($"output folder does not exist: {Path.GetDirectoryName(output)}");

            var layout = SpecFiles.LoadLayout(specPath);   // a pruned spec too: its step time is what a budget predicted
            bool json = parse.GetValue(JsonOption);
            var options = new CostProfileOptions
            {
                Batch = batch, Height = height, Width = width, Tokens = tokens, Threads = parse.GetValue(ThreadsOption), Runs = runs, WarmupRuns = warmup,
                Device = DeviceOption.Read(parse),
            };
            var costs = CostProfiler.Profile(layout, options, json ? null : line => context.Error.WriteLine($"[profile] {line}"));
            var text = CostsWriter.Write(costs);
            AtomicFile.WriteText(output, text);
            if (json) context.Out.Write(text);
            else Report(context, costs, output);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>--spec, or --model's unet/config.json: exactly one of them.</summary>
    private static string SpecPath(ParseResult parse)
    {
        var spec = parse.GetValue(SpecOption);
        var model = parse.GetValue(ModelOption);
        if ((spec == null) == (model == null)) throw new UsageException("profile needs either --spec or --model (one of them).");
        return spec?.FullName ?? PipelineFolder.OpenStructure(model!.FullName).UNet.ConfigPath!;
    }

    private static void Report(CliContext context, CostsFile costs, string output)
    {
        context.Out.WriteLine($"{costs.Spec.Name} at {costs.Shape}, {costs.Device}, median of {costs.Runs} runs:");
        context.Out.WriteLine($"{"unit",-48} {"params",12} {"MFLOPs",12} {"ms",9} {"IQR ms",8}");
        foreach (var u in costs.Units)
            context.Out.WriteLine($"{u.Id,-48} {u.Params,12:N0} {u.Flops / 1e6,12:N1} {u.LatencyMs,9:F3} {u.LatencyIqrMs ?? 0,8:F3}");
        var s = costs.Step;
        context.Out.WriteLine($"{"step",-48} {s.Params,12:N0} {s.Flops / 1e6,12:N1} {s.LatencyMs,9:F3} {s.LatencyIqrMs ?? 0,8:F3}");
        double units = costs.Units.Sum(u => u.LatencyMs);
        context.Out.WriteLine($"units {units:F3} ms + fixed rest {s.FixedLatencyMs ?? 0:F3} ms vs step {s.LatencyMs:F3} ms: residual {CostProfiler.Residual(costs) * 100:+0.0;-0.0} %");
        context.Out.WriteLine($"wrote {output}");
    }
}
