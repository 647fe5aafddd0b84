using System.Diagnostics;
using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>
/// Times a U-Net at its sample size with seeded random weights and inputs: the median of repeated
/// runs after warm-up, so one slow run (page faults, allocator growth) does not decide the figure. With ONNX
/// Runtime, the same weights are exported and both runtimes' forwards are timed in one run at the same threads.
/// </summary>
public static class UNetBenchmark
{
    public static UNetBenchmarkReport Run(UNetLayout layout, UNetBenchmarkOptions options, Action<string>? progress = null)
    {
        if (options.Threads is int threads) torch.set_num_threads(threads);
        torch.manual_seed(options.Seed);
        int size = options.SampleSize ?? layout.Spec.SampleSize;
        var device = options.Device ?? CPU;
        using var model = new UNet2DCondition(layout).MoveTo(device);

        using var scope = NewDisposeScope();
        var inputs = RandomInputs(layout, options.Batch, size, size, options.Tokens, device);
        model.eval();
        void TorchForward()
        {
            using var _ = torch.inference_mode();
            using var step = NewDisposeScope();
            model.forward(inputs);
        }
        UNetBenchmarkReport Report(List<double>? forward, List<double>? forwardBackward) =>
            new(layout.Spec.Name, layout.TotalParamCount, options.Batch, torch.get_num_threads(), size, options.Tokens,
                forward is null ? null : Median(forward), forwardBackward is null ? null : Median(forwardBackward), forward ?? [], forwardBackward ?? []);

        if (!options.Runtimes.HasFlag(UNetRuntimes.Onnx))
        {
            var target = randn(options.Batch, layout.Spec.OutChannels, size, size, device: device);
            var forward = Measure(options, "forward", progress, TorchForward);
            model.train();
            var forwardBackward = Measure(options, "forward+backward", progress, () =>
            {
                using var step = NewDisposeScope();
                model.zero_grad();
                var loss = Ops.MeanSquaredError(model.forward(inputs).Sample, target);
                loss.backward();
            });
            return Report(forward, forwardBackward);
        }

        var (opened, sameWeights) = BenchmarkOnnxModel.Open(model, options, progress);
        using var onnx = opened;
        void OnnxForward()
        {
            using var step = NewDisposeScope();
            onnx.Forward(inputs).Dispose();
        }
        double? agreement = sameWeights ? Agreement(model, onnx, inputs) : null;
        List<double>? torchRuns = null, onnxRuns;
        if (options.Runtimes.HasFlag(UNetRuntimes.Torch))
            (torchRuns, onnxRuns) = MeasureInterleaved(options, progress, ("forward", TorchForward), ("onnx forward", OnnxForward));
        else
            onnxRuns = Measure(options, "onnx forward", progress, OnnxForward);
        return Report(torchRuns, null) with { Onnx = new OnnxForwardTiming(sameWeights ? null : onnx.Path, Median(onnxRuns), onnxRuns, agreement) };
    }

    private static double Agreement(UNet2DCondition model, OnnxUNet onnx, UNetInputs inputs)
    {
        using var _ = torch.inference_mode();
        using var scope = NewDisposeScope();
        var a = onnx.Forward(inputs).Sample.to_type(ScalarType.Float64);
        var b = model.forward(inputs).Sample.to_type(ScalarType.Float64);
        return (a - b).norm().item<double>() / Math.Max(b.norm().item<double>(), 1e-30);
    }

    /// <summary>Both after their warm-ups, then alternately run by run, so a change of machine load falls on both alike.</summary>
    private static (List<double>, List<double>) MeasureInterleaved(UNetBenchmarkOptions options, Action<string>? progress,
        (string Name, Action Run) first, (string Name, Action Run) second)
    {
        for (int i = 0; i < options.WarmupRuns; i++)
        {
            first.Run();
            second.Run();
        }
        var a = new List<double>();
        var b = new List<double>();
        for (int i = 0; i < options.MeasuredRuns; i++)
        {
            a.Add(Time(first.Run));
            b.Add(Time(second.Run));
            progress?.Invoke($"run {i + 1}/{options.MeasuredRuns}: {first.Name} {a[^1]:F1} ms, {second.Name} {b[^1]:F1} ms");
        }
        return (a, b);
    }

    private static double Time(Action run)
    {
        var watch = Stopwatch.StartNew();
        run();
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// Seeded inputs of the layout's shapes at <paramref name="height"/> x <paramref name="width"/> latents, made on
    /// <paramref name="device"/> (default the CPU); timesteps spread over [0, 1000).
    /// </summary>
    public static UNetInputs RandomInputs(UNetLayout layout, int batch, int height, int width, int tokens, Device? device = null)
    {
        var spec = layout.Spec;
        var sample = randn(batch, spec.InChannels, height, width, device: device);
        var timestep = randint(0, 1000, new long[] { batch }, dtype: ScalarType.Int64, device: device);
        var context = randn(batch, tokens, Math.Max(spec.CrossAttentionDim, 1), device: device);
        Tensor? textEmbeds = null, timeIds = null;
        if (spec.AdditionEmbedding is AdditionEmbeddingSpec add)
        {
            textEmbeds = randn(batch, add.TextEmbedDim, device: device);
            timeIds = tensor(new float[] { height * 8, width * 8, 0, 0, height * 8, width * 8 }, device: device).repeat(batch, 1);
        }
        return new UNetInputs(sample, timestep, context, textEmbeds, timeIds);
    }

    private static List<double> Measure(UNetBenchmarkOptions options, string what, Action<string>? progress, Action run)
    {
        for (int i = 0; i < options.WarmupRuns; i++) run();
        var times = new List<double>();
        for (int i = 0; i < options.MeasuredRuns; i++)
        {
            times.Add(Time(run));
            progress?.Invoke($"{what} run {i + 1}/{options.MeasuredRuns}: {times[^1]:F1} ms");
        }
        return times;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
