using System.Diagnostics;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>One variant's timing: median milliseconds of a whole student training step.</summary>
public sealed record DistillStepTiming(string Variant, double StepMs, IReadOnlyList<double> RunsMs);

/// <summary>
/// Times a full distillation training step of a student (teacher forward, student forward, loss,
/// backward, AdamW update) at the spec's sample size with synthetic inputs, once per feature-loss
/// implementation and once without the feature term; the loss's share of a step is
/// (step - step without feature term) / step: the feature loss's forward and backward as they cost inside
/// a real step (stage features are references to hidden states either way, so nothing else differs).
/// </summary>
public static class DistillStepBenchmark
{
    public const string NoFeatureVariant = "no feature term";

    public static IReadOnlyList<DistillStepTiming> Run(UNetLayout teacherLayout, UNetLayout studentLayout, int batch, int runs, int warmup,
        IReadOnlyList<IFeatureLoss> losses, FeatureKd kind = FeatureKd.Normalized, Action<string>? log = null)
    {
        manual_seed(0);
        using var teacher = new UNet2DCondition(teacherLayout);
        using var student = new UNet2DCondition(studentLayout);
        var spec = teacherLayout.Spec;
        using var scope = NewDisposeScope();
        var sample = randn(batch, spec.InChannels, spec.SampleSize, spec.SampleSize);
        using var trainingBatch = new TrainingBatch
        {
            Noisy = sample.clone(),
            Timesteps = randint(0, 1000, new long[] { batch }, dtype: ScalarType.Int64),
            Noise = randn_like(sample),
            Context = randn(batch, 4, spec.CrossAttentionDim),
        };
        var variants = losses.Select(l => (l.Name, Kd: kind, Loss: l)).Append((NoFeatureVariant, FeatureKd.None, (IFeatureLoss)new TorchFeatureLoss()));
        var result = new List<DistillStepTiming>();
        foreach (var (name, kd, loss) in variants)
        {
            var objective = new DistillationObjective(teacher, student, null, new DistillationOptions { FeatureKd = kd }, loss);
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
            foreach (var (_, p) in parameters) p.grad = null;
            var timing = new DistillStepTiming(name, Median(times), times);
            log?.Invoke($"{name}: {timing.StepMs:F1} ms per step (median of {runs})");
            result.Add(timing);
        }
        return result;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
