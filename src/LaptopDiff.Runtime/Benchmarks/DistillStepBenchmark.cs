using System.Diagnostics;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>
/// One variant's timing: median milliseconds of a whole student training step, and of its feature loss
/// alone (forward + backward on the step's stage features; 0 for the variant without the term), and the peak resident
/// memory of the process during the variant's steps (weights, gradients and optimizer state included; null off Linux).
/// </summary>
public sealed record DistillStepTiming(string Variant, double StepMs, double LossMs, IReadOnlyList<double> RunsMs, long? PeakResidentBytes);

/// <summary>
/// Times a full distillation training step of a student (teacher forward, student forward, loss,
/// backward, AdamW update) at the spec's sample size with synthetic inputs, once per feature-loss
/// implementation and once without the feature term; and each implementation's forward + backward alone
/// on the stage features of that step (same shapes and values), so its share of a step is LossMs / StepMs.
/// (The difference to the step without the term measures the same thing but drowns in noise on a shared machine.)
/// <paramref name="checkpointActivations"/> runs the student with per-stage activation checkpointing; without
/// <paramref name="withoutFeatureTerm"/> the variant without the term is left out (SD-scale steps take minutes).
/// </summary>
public static class DistillStepBenchmark
{
    public const string NoFeatureVariant = "no feature term";
    /// <summary>Encoder states per sample: a CLIP prompt's 77 tokens.</summary>
    public const int ContextTokens = 77;

    public static IReadOnlyList<DistillStepTiming> Run(UNetLayout teacherLayout, UNetLayout studentLayout, int batch, int runs, int warmup,
        IReadOnlyList<IFeatureLoss> losses, FeatureKd kind = FeatureKd.Normalized, Action<string>? log = null,
        bool checkpointActivations = false, bool withoutFeatureTerm = true, Device? device = null)
    {
        manual_seed(0);
        device ??= CPU;
        using var teacher = new UNet2DCondition(teacherLayout).MoveTo(device);
        using var student = new UNet2DCondition(studentLayout).MoveTo(device);
        var spec = teacherLayout.Spec;
        using var scope = NewDisposeScope();
        var inputs = UNetBenchmark.RandomInputs(teacherLayout, batch, spec.SampleSize, spec.SampleSize, ContextTokens, device);
        using var trainingBatch = new TrainingBatch
        {
            Noisy = inputs.Sample,
            Timesteps = inputs.Timestep,
            Noise = randn_like(inputs.Sample),
            Context = inputs.EncoderHiddenStates,
            TextEmbeds = inputs.TextEmbeds,
            TimeIds = inputs.TimeIds,
        };
        var variants = losses.Select(l => (l.Name, Kd: kind, Loss: l)).ToList();
        if (withoutFeatureTerm) variants.Add((NoFeatureVariant, FeatureKd.None, new TorchFeatureLoss()));
        var result = new List<DistillStepTiming>();
        foreach (var (name, kd, loss) in variants)
        {
            var objective = new DistillationObjective(teacher, student, null,
                new DistillationOptions { FeatureKd = kd, CheckpointActivations = checkpointActivations }, loss);
            ResidentMemory.ResetPeak();
            var parameters = student.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
            using var optimizer = new AdamW(parameters, 0.9, 0.999, 1e-8, 0.01);
            var times = new List<double>();
            for (int i = 0; i < warmup + runs; i++)
            {
                var clock = Stopwatch.StartNew();
                using (var stepScope = NewDisposeScope())
                {
                    foreach (var (_, p) in parameters) p.grad = null;
                    using var terms = objective.Loss(trainingBatch);
                    terms.Total.backward();
                    optimizer.Step(1e-5);
                }
                if (i >= warmup) times.Add(clock.Elapsed.TotalMilliseconds);
            }
            long? peak = ResidentMemory.PeakBytes();
            foreach (var (_, p) in parameters) p.grad = null;
            double lossMs = kd == FeatureKd.None ? 0 : LossOnly(teacher, student, trainingBatch, loss, kd, warmup, 3 * runs);
            var timing = new DistillStepTiming(name, UNetBenchmark.Median(times), lossMs, times, peak);
            log?.Invoke($"{name}: {timing.StepMs:F1} ms per step, feature loss forward+backward {lossMs:F2} ms (medians of {runs} and {3 * runs}), " +
                        $"peak resident {(peak is { } bytes ? $"{bytes / (1024.0 * 1024 * 1024):F2} GiB" : "unknown")}");
            result.Add(timing);
        }
        return result;
    }

    /// <summary>The feature loss's forward and backward on one step's features (student features as fresh leaves).</summary>
    private static double LossOnly(UNet2DCondition teacher, UNet2DCondition student, TrainingBatch batch, IFeatureLoss loss, FeatureKd kd, int warmup, int runs)
    {
        using var scope = NewDisposeScope();
        var stages = teacher.Layout.FeatureStages.ToArray();
        Tensor[] t, s;
        using (no_grad())
        {
            var inputs = batch.Inputs(null);
            var teacherFeatures = teacher.Forward(inputs, features: true).Features!;
            var studentFeatures = student.Forward(inputs, features: true).Features!;
            t = stages.Select(k => teacherFeatures[k]).ToArray();
            s = stages.Select(k => studentFeatures[k].detach().requires_grad_(true)).ToArray();
        }
        bool normalized = kd == FeatureKd.Normalized;
        var weights = t.Select(f => normalized ? 1.0 : 1.0 / f.numel()).ToArray();
        var times = new List<double>();
        for (int i = 0; i < warmup + runs; i++)
        {
            foreach (var f in s) f.grad = null;
            var clock = Stopwatch.StartNew();
            using (var stepScope = NewDisposeScope())
                loss.Apply(t, s, weights, normalized, out _, out _).backward();
            if (i >= warmup) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return UNetBenchmark.Median(times);
    }
}
