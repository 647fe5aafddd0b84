using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>
/// A U-Net's cost profile on this machine (<see cref="CostsFile"/>): per prunable unit its parameters, its FLOPs
/// (<see cref="UNetFlops"/>) and the median latency of its own forward inside full steps, and the same for the whole step.
/// Seeded random weights and inputs (time does not depend on the values). Each timed run is one step timed step by step
/// (<see cref="Execution.ExecutionPlan.RunTimed"/>) followed by one plain step, in inference mode; the step's latency is the
/// median of the plain steps, so the timing of units does not inflate it, and the units' medians plus the fixed rest can be
/// compared with it (the residual <see cref="Residual"/>).
/// </summary>
public static class CostProfiler
{
    public static CostsFile Profile(UNetLayout layout, CostProfileOptions options, Action<string>? progress = null)
    {
        int height = options.Height ?? layout.Spec.SampleSize, width = options.Width ?? layout.Spec.SampleSize;
        Check(options, height, width);
        if (options.Threads is int threads) torch.set_num_threads(threads);
        var shape = new CostShape(options.Batch, height, width, options.Tokens);
        var flops = UNetFlops.Count(layout, shape);

        torch.manual_seed(options.Seed);
        using var model = new UNet2DCondition(layout).MoveTo(options.Device);   // initialised on the CPU: the same weights on every device
        model.eval();
        bool cudaStep = options.Device.type == DeviceType.CUDA;
        var plan = model.Plan;
        using var scope = NewDisposeScope();
        using var inference = torch.inference_mode();
        var inputs = UNetBenchmark.RandomInputs(layout, options.Batch, height, width, options.Tokens, options.Device);

        for (int i = 0; i < options.WarmupRuns; i++)
            using (NewDisposeScope()) plan.Run(inputs);
        var stepTimes = new List<double[]>();
        var wholeMs = new List<double>();
        for (int i = 0; i < options.Runs; i++)
        {
            var times = new double[plan.Steps.Count];
            using (NewDisposeScope()) plan.RunTimed(inputs, times);
            stepTimes.Add(times);
            var watch = Stopwatch.StartNew();
            using (NewDisposeScope()) plan.Run(inputs);
            if (cudaStep) cuda.synchronize();
            wholeMs.Add(watch.Elapsed.TotalMilliseconds);
            progress?.Invoke($"run {i + 1}/{options.Runs}: step {wholeMs[^1]:F1} ms, its steps timed one by one {times.Sum():F1} ms");
        }

        // a step is a unit's when it runs a prunable unit of this model; everything else is the fixed rest
        var unitSteps = plan.Steps.Where(s => s.UnitIndex >= 0 && s.Component.Prunable && !s.Removed).ToList();
        var unitStepIndices = unitSteps.Select(s => s.Index).ToHashSet();
        var units = unitSteps.Select(s =>
        {
            var ms = stepTimes.Select(t => t[s.Index]).ToList();
            return new UnitCost { Id = s.Id, Params = s.Component.ParamCount, Flops = flops[s.Id], LatencyMs = Median(ms), LatencyIqrMs = Iqr(ms) };
        }).ToEquatableArray();
        // the fixed rest like the units: each step's median, summed (a median of per-run sums would also hold the preemptions that
        // the units' medians leave out, and the parts would not be measured alike)
        double fixedMs = Enumerable.Range(0, plan.Steps.Count).Where(i => !unitStepIndices.Contains(i)).Sum(i => Median(stepTimes.Select(t => t[i]).ToList()));

        return new CostsFile
        {
            Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = SpecHash.Compute(layout.Spec) },
            Device = Device(options.Device),
            Shape = shape,
            Runs = options.Runs,
            Created = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            FlopConvention = UNetFlops.Convention,
            Step = new StepCost
            {
                Params = layout.TotalParamCount,
                Flops = UNetFlops.Step(layout, shape),
                LatencyMs = Median(wholeMs),
                LatencyIqrMs = Iqr(wholeMs),
                FixedLatencyMs = fixedMs,
            },
            Units = units,
        };
    }

    /// <summary>
    /// How far the parts miss the whole: (sum of the units' median latencies + the fixed rest's - the step's) / the step's.
    /// Near 0 when timing units one by one neither adds nor hides work.
    /// </summary>
    public static double Residual(CostsFile costs) =>
        (costs.Units.Sum(u => u.LatencyMs) + (costs.Step.FixedLatencyMs ?? 0) - costs.Step.LatencyMs) / costs.Step.LatencyMs;

    /// <summary>
    /// The step latency <paramref name="costs"/> predicts once <paramref name="removed"/> are gone: the measured step less the
    /// removed units' share of the parts (units + fixed rest, the latency budget's total), i.e. the step x (1 - removed / parts).
    /// Equal to the step minus the removed units' latencies when the residual is 0; under load it scales their time by the
    /// stretch the whole step shows.
    /// </summary>
    public static double PredictedStepMs(CostsFile costs, IEnumerable<string> removed)
    {
        var set = removed.ToHashSet(StringComparer.Ordinal);
        double parts = costs.Units.Sum(u => u.LatencyMs) + (costs.Step.FixedLatencyMs ?? 0);
        return costs.Step.LatencyMs * (1 - costs.Units.Where(u => set.Contains(u.Id)).Sum(u => u.LatencyMs) / parts);
    }

    /// <summary>The machine as a costs file records it: the CPU's model name (or architecture) and libtorch's threads, or the GPU's index.</summary>
    public static string Device(Device? device = null)
    {
        if (device is { type: DeviceType.CUDA }) return $"cuda:{Math.Max(0, (int)device.index)} of {cuda.device_count()}";
        string cpu = RuntimeInformation.ProcessArchitecture.ToString();
        try
        {
            var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
            if (line != null && line.IndexOf(':') is int colon and >= 0) cpu = line[(colon + 1)..].Trim();
        }
        catch (IOException) { }
        return $"cpu: {cpu}, {torch.get_num_threads()} threads";
    }

    private static void Check(CostProfileOptions options, int height, int width)
    {
        if (options.Batch < 1) throw new InputException($"the batch must be at least 1, got {options.Batch}.", nameof(options.Batch));
        if (height < 1 || width < 1) throw new InputException($"the latent size must be at least 1x1, got {height}x{width}.", nameof(options.Height), nameof(options.Width));
        if (options.Tokens < 1) throw new InputException($"the text tokens must be at least 1, got {options.Tokens}.", nameof(options.Tokens));
        if (options.Runs < 1 || options.WarmupRuns < 0)
            throw new InputException($"a profile needs at least 1 timed run and no negative warm-up, got {options.Runs} and {options.WarmupRuns}.",
                nameof(options.Runs), nameof(options.WarmupRuns));
    }

    private static double Median(List<double> values) => Quantile(values, 0.5);

    /// <summary>The interquartile range, the spread a costs file records (linear interpolation between order statistics).</summary>
    private static double Iqr(List<double> values) => Quantile(values, 0.75) - Quantile(values, 0.25);

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        double pos = q * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
