using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Schedulers;
using TorchSharp;

namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>What <see cref="PipelineBenchmark"/> runs: a batch of one prompt repeated, seeded, at a size and step count.</summary>
public sealed record PipelineBenchmarkOptions
{
    public int Steps { get; init; } = 25;
    public int Batch { get; init; } = 1;
    public int? Height { get; init; }
    public int? Width { get; init; }
    public double GuidanceScale { get; init; } = 7.5;
    public int? Threads { get; init; }
    public int WarmupRuns { get; init; } = 1;
    public int MeasuredRuns { get; init; } = 1;
    public string Prompt { get; init; } = "a photograph of an astronaut riding a horse";
    public long Seed { get; init; }
}

/// <summary>
/// Medians over the measured runs, in ms for the whole batch: text encoding, denoising (all steps; <see cref="StepMs"/> one
/// step), decoding, and the whole call; <see cref="UNetBatch"/> is the U-Net batch of every step (2 x batch with guidance:
/// both halves in one forward).
/// </summary>
public sealed record PipelineBenchmarkReport(
    string Pipeline, string UNet, long UNetParamCount, int Batch, int Threads, int Height, int Width, int Steps, string Scheduler, long UNetBatch,
    double TextEncodingMs, double DenoisingMs, double StepMs, double DecodingMs, double TotalMs, IReadOnlyList<double> TotalRunsMs)
{
    public double SecondsPerImage => TotalMs / 1000.0 / Batch;
    public double TextEncodingShare => TextEncodingMs / TotalMs;
    public double DenoisingShare => DenoisingMs / TotalMs;
    public double DecodingShare => DecodingMs / TotalMs;
}

/// <summary>Times whole text-to-image calls of a loaded pipeline, stage by stage, from the pipeline's own timings; logs each step.</summary>
public static class PipelineBenchmark
{
    public static PipelineBenchmarkReport Run(TextToImagePipeline pipeline, PipelineBenchmarkOptions options, Action<string>? log = null)
    {
        if (options.Threads is int threads) torch.set_num_threads(threads);
        var request = new TextToImageRequest
        {
            Prompts = Enumerable.Repeat(options.Prompt, options.Batch).ToList(), Steps = options.Steps, GuidanceScale = options.GuidanceScale,
            Height = options.Height, Width = options.Width, Seed = options.Seed,
        };
        var runs = new List<(PipelineTimings Timings, long UNetBatch)>();
        TextToImagePlan? plan = null;
        for (int i = 0; i < options.WarmupRuns + options.MeasuredRuns; i++)
        {
            bool warmup = i < options.WarmupRuns;
            using var result = pipeline.Generate(request, log is null ? null : new StepLog(log));
            plan = result.Plan;
            var t = result.Timings;
            log?.Invoke($"{(warmup ? "warm-up" : "run")} {(warmup ? i + 1 : i - options.WarmupRuns + 1)}: text {t.TextEncodingMs:F0} ms, " +
                        $"denoising {t.DenoisingMs:F0} ms ({t.Steps.Count} steps), decoding {t.DecodingMs:F0} ms, total {t.TotalMs:F0} ms");
            if (!warmup) runs.Add((t, t.Steps[0].UNetBatch));
        }
        double Median(Func<PipelineTimings, double> stage) => UNetBenchmark.Median(runs.Select(r => stage(r.Timings)).ToList());
        return new PipelineBenchmarkReport(
            pipeline.Folder.ClassName, pipeline.UNet.Layout.Spec.Name, pipeline.UNet.Layout.TotalParamCount, options.Batch, torch.get_num_threads(),
            plan!.Height, plan.Width, plan.Steps, plan.Scheduler.Kind.ClassName(), runs[0].UNetBatch,
            Median(t => t.TextEncodingMs), Median(t => t.DenoisingMs),
            UNetBenchmark.Median(runs.SelectMany(r => r.Timings.Steps.Select(s => s.ElapsedMs)).ToList()),
            Median(t => t.DecodingMs), Median(t => t.TotalMs), runs.Select(r => r.Timings.TotalMs).ToList());
    }

    private sealed class StepLog(Action<string> log) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress p)
        {
            if (p.LastStep is { } step) log($"step {p.StepsDone}/{p.Steps}: {step.ElapsedMs:F0} ms (U-Net batch {step.UNetBatch})");
        }
    }
}
