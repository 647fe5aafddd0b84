using System.Diagnostics;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Evaluation;

/// <summary>How a text-to-image model is evaluated (<see cref="PipelineEvaluator.Run"/>).</summary>
public sealed record PipelineEvaluationRequest
{
    /// <summary>One image per prompt.</summary>
    public required IReadOnlyList<string> Prompts { get; init; }
    public int Steps { get; init; } = 25;
    public double GuidanceScale { get; init; } = 7.5;
    /// <summary>Batch b (prompts [b B, (b+1) B)) starts from the noise of seed + b B, for the model and the teacher alike.</summary>
    public long Seed { get; init; }
    public int BatchSize { get; init; } = 4;
    public ClipMetric Metric { get; init; } = ClipMetric.Clip;
    public int Resamples { get; init; } = 1000;
}

/// <summary>
/// The figures of one evaluation, each mean with its 95% bootstrap interval over the images: the score of each image against
/// its prompt, the mean squared difference of each image from the teacher's (same prompt, same noise; null without a
/// teacher), and the model's wall time per image (text encoding, denoising, decoding).
/// </summary>
public sealed record PipelineEvaluationReport(int Images, ClipMetric Metric, Estimate Score, Estimate? TeacherImageMse, double MsPerImage,
    IReadOnlyList<double> Scores);

public static class PipelineEvaluator
{
    /// <summary>
    /// Generates an image per prompt with <paramref name="model"/> (and <paramref name="teacher"/>, when given, from the same
    /// noise), scores them with <paramref name="scorer"/>; returns the report and the model's images [N,3,H,W] in [0,1] (the caller's).
    /// </summary>
    public static (PipelineEvaluationReport Report, Tensor Images) Run(TextToImagePipeline model, TextToImagePipeline? teacher, ClipScorer scorer,
        PipelineEvaluationRequest request, Action<string>? log = null)
    {
        if (request.Prompts.Count == 0) throw new InputException("no prompts to evaluate on.");
        if (request.BatchSize < 1) throw new SettingException(nameof(request.BatchSize), request.BatchSize, "must be at least 1");
        var images = new List<Tensor>();
        var mse = new List<double>();
        double modelMs = 0;
        try
        {
            for (int start = 0; start < request.Prompts.Count; start += request.BatchSize)
            {
                var prompts = request.Prompts.Skip(start).Take(request.BatchSize).ToList();
                var call = new TextToImageRequest { Prompts = prompts, Steps = request.Steps, GuidanceScale = request.GuidanceScale, Seed = request.Seed + start };
                var watch = Stopwatch.StartNew();
                using var result = model.Generate(call);
                modelMs += watch.Elapsed.TotalMilliseconds;
                var batch = result.Images!.clone().DetachFromDisposeScope();                                         // [n,3,H,W]
                images.Add(batch);
                if (teacher is not null)
                {
                    using var reference = teacher.Generate(call);
                    using var scope = NewDisposeScope();
                    var perImage = (batch - reference.Images!).square().mean([1, 2, 3]).to_type(ScalarType.Float64);  // [n]
                    mse.AddRange(perImage.data<double>().ToArray());
                }
                log?.Invoke($"eval: {start + prompts.Count} of {request.Prompts.Count} images");
            }
            var all = cat(images, 0);                                                                             // [N,3,H,W]
            var scores = scorer.Score(Enumerable.Range(0, (int)all.shape[0]).Select(i => all.narrow(0, i, 1)).ToList(), request.Prompts, request.Metric);
            var score = Bootstrap.Interval(scores.Length, idx => idx.Average(i => scores[i]), request.Resamples, request.Seed);
            Estimate? teacherMse = teacher is null ? null : Bootstrap.Interval(mse.Count, idx => idx.Average(i => mse[(int)i]), request.Resamples, request.Seed);
            var report = new PipelineEvaluationReport(scores.Length, request.Metric, score, teacherMse, modelMs / scores.Length, scores);
            return (report, all);
        }
        finally
        {
            foreach (var t in images) t.Dispose();
        }
    }
}
