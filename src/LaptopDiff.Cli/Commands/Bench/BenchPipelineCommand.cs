using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Benchmarks;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands.Bench;

/// <summary><c>laptop-diff bench pipeline --model DIR [--steps 25] [--batch B] [--height H --width W] [--threads T] [--json]</c>.</summary>
public static class BenchPipelineCommand
{
    private static readonly PipelineModelOptions Model = new();
    private static readonly Option<int> StepsOption = new("--steps") { Description = "Denoising steps", DefaultValueFactory = _ => 25 };
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Images per call (one prompt repeated); with guidance the U-Net runs 2 x batch rows per step", DefaultValueFactory = _ => 1 };
    private static readonly Option<int?> HeightOption = new("--height") { Description = "Image height (default: the U-Net's sample_size x 8)" };
    private static readonly Option<int?> WidthOption = new("--width") { Description = "Image width (default as --height)" };
    private static readonly Option<double> GuidanceOption = new("--guidance") { Description = "Guidance scale (1 or less: no unconditional half)", DefaultValueFactory = _ => 7.5 };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the pipeline's models");
    private static readonly Option<int> RunsOption = new("--runs") { Description = "Measured calls (medians are reported)", DefaultValueFactory = _ => 1 };
    private static readonly Option<int> WarmupOption = new("--warmup") { Description = "Unmeasured calls first", DefaultValueFactory = _ => 1 };
    private static readonly JsonOption JsonOption = CommonOptions.Json("per-stage ms for the batch, seconds per image, each stage's share, the U-Net batch per step");

    private const string Details = """
        Times whole text-to-image calls of a pipeline folder (seeded, one prompt repeated --batch times): the
        latency per image split into text encoding, denoising (and per step) and decoding. With guidance the
        conditional and unconditional halves run as one U-Net batch, reported as the U-Net batch per step.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("pipeline", "Time text-to-image calls of a pipeline folder by stage", Details)
        {
            StepsOption, BatchOption, HeightOption, WidthOption, GuidanceOption, ThreadsOption, DeviceOption, RunsOption, WarmupOption, JsonOption,
        };
        Model.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            int steps = parse.GetValue(StepsOption), batch = parse.GetValue(BatchOption), runs = parse.GetValue(RunsOption), warmup = parse.GetValue(WarmupOption);
            if (steps < 1 || batch < 1 || runs < 1 || warmup < 0) throw new OptionValueException("--steps, --batch and --runs must be at least 1, --warmup at least 0");
            var options = new PipelineBenchmarkOptions
            {
                Steps = steps, Batch = batch, Height = parse.GetValue(HeightOption), Width = parse.GetValue(WidthOption), GuidanceScale = parse.GetValue(GuidanceOption),
                Threads = parse.GetValue(ThreadsOption), MeasuredRuns = runs, WarmupRuns = warmup,
            };
            var folder = Model.Open(parse);
            TextToImagePlan.Create(folder, new TextToImageRequest { Prompts = [options.Prompt], Steps = steps, Height = options.Height, Width = options.Width });
            var load = Stopwatch.StartNew();
            using var pipeline = TextToImagePipeline.Load(folder, device: DeviceOption.Read(parse));
            double loadMs = load.Elapsed.TotalMilliseconds;
            var report = PipelineBenchmark.Run(pipeline, options, line => context.Error.WriteLine($"[bench] {line}"));
            if (parse.GetValue(JsonOption))
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    pipeline = report.Pipeline, unet = report.UNet, unet_params = report.UNetParamCount, batch = report.Batch, threads = report.Threads,
                    height = report.Height, width = report.Width, steps = report.Steps, scheduler = report.Scheduler, unet_batch = report.UNetBatch,
                    load_ms = loadMs, text_encoding_ms = report.TextEncodingMs, denoising_ms = report.DenoisingMs, step_ms = report.StepMs,
                    decoding_ms = report.DecodingMs, total_ms = report.TotalMs, seconds_per_image = report.SecondsPerImage,
                    shares = new { text_encoding = report.TextEncodingShare, denoising = report.DenoisingShare, decoding = report.DecodingShare },
                    total_runs_ms = report.TotalRunsMs,
                }, JsonOptions.Indented));
            else
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{report.Pipeline} ({report.UNet}, {report.UNetParamCount:N0} U-Net params), batch {report.Batch} (U-Net batch {report.UNetBatch}), " +
                    $"{report.Width}x{report.Height}, {report.Steps} steps {report.Scheduler}, {report.Threads} threads: {report.SecondsPerImage:F2} s per image; " +
                    $"text encoding {report.TextEncodingMs:F0} ms ({report.TextEncodingShare:P1}), denoising {report.DenoisingMs:F0} ms ({report.DenoisingShare:P1}, " +
                    $"{report.StepMs:F0} ms per step), decoding {report.DecodingMs:F0} ms ({report.DecodingShare:P1})"));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
