using System.Diagnostics;
using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>
/// Times a U-Net at its sample size with seeded random weights and inputs: the median of repeated
/// runs after warm-up, so one slow run (page faults, allocator growth) does not decide the figure.
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
        var inputs = RandomInputs(layout, options.Batch, size, options.Tokens, device);
        var target = randn(options.Batch, layout.Spec.OutChannels, size, size, device: device);

        model.eval();
        var forward = Measure(options, "forward", progress, () =>
        {
            using var _ = torch.inference_mode();
            using var step = NewDisposeScope();
            model.forward(inputs);
        });

        model.train();
        var forwardBackward = Measure(options, "forward+backward", progress, () =>
        {
            using var step = NewDisposeScope();
            model.zero_grad();
            var loss = Ops.MeanSquaredError(model.forward(inputs).Sample, target);
            loss.backward();
        });

        return new UNetBenchmarkReport(layout.Spec.Name, layout.TotalParamCount, options.Batch, torch.get_num_threads(), size, options.Tokens,
            Median(forward), Median(forwardBackward), forward, forwardBackward);
    }

    /// <summary>Seeded inputs of the layout's shapes on <paramref name="device"/> (default the CPU); timesteps spread over [0, 1000).</summary>
    public static UNetInputs RandomInputs(UNetLayout layout, int batch, int size, int tokens, Device? device = null)
    {
        var spec = layout.Spec;
        var sample = randn(batch, spec.InChannels, size, size, device: device);
        var timestep = randint(0, 1000, new long[] { batch }, dtype: ScalarType.Int64, device: device);
        var context = randn(batch, tokens, Math.Max(spec.CrossAttentionDim, 1), device: device);
        Tensor? textEmbeds = null, timeIds = null;
        if (spec.AdditionEmbedding is AdditionEmbeddingSpec add)
        {
            textEmbeds = randn(batch, add.TextEmbedDim, device: device);
            timeIds = tensor(new float[] { size * 8, size * 8, 0, 0, size * 8, size * 8 }, device: device).repeat(batch, 1);
        }
        return new UNetInputs(sample, timestep, context, textEmbeds, timeIds);
    }

    private static List<double> Measure(UNetBenchmarkOptions options, string what, Action<string>? progress, Action run)
    {
        for (int i = 0; i < options.WarmupRuns; i++) run();
        var times = new List<double>();
        for (int i = 0; i < options.MeasuredRuns; i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            times.Add(watch.Elapsed.TotalMilliseconds);
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
