using System.Diagnostics;
using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// Times each fused kernel against the unfused TorchSharp composition on the same random data, at
/// the shapes in <see cref="KernelBenchmarkOptions"/>, and measures the copy bandwidth ceiling.
/// <code>var report = KernelBenchmark.Run(new KernelBenchmarkOptions()); Console.WriteLine(report.ToJson());</code>
/// </summary>
public static class KernelBenchmark
{
    public const string AblationKernel = "ablation_sse";
    public const string FeatureForwardKernel = "feature_loss_forward";
    public const string FeatureForwardBackwardKernel = "feature_loss_forward_backward";

    public static KernelBenchmarkReport Run(KernelBenchmarkOptions options)
    {
        var notes = new List<string>();
        var kernels = new List<ILossKernels>();
        try
        {
            foreach (var path in options.Paths.Distinct())
            {
                var k = KernelFactory.TryCreate(path, options.Tuning);
                if (k is null) notes.Add($"{path.Name()}: not available on this machine, skipped");
                else kernels.Add(k);
            }
            if (kernels.Any(k => k.Path == KernelPath.IlgpuCpu))
                notes.Add("ilgpu-cpu is ILGPU's CPU emulator: a correctness tool, expect it to be orders of magnitude slower");
            if (kernels.Any(k => k.Path == KernelPath.IlgpuCuda))
                notes.Add("ilgpu-cuda times include copying the CPU tensors to the GPU and gradients back (TorchSharp here is the CPU build)");

            Log(options, "measuring copy bandwidth");
            double copyGbps = CopyBandwidth.MeasureGbps(options.CopyBytes, options.Tuning.CpuThreads);
            var results = new List<KernelBenchmarkResult>();
            foreach (var shapes in options.AblationShapes)
                results.AddRange(Ablation(options, shapes, kernels));
            foreach (var shapes in options.FeatureShapes)
                results.AddRange(Features(options, shapes, kernels));
            return new KernelBenchmarkReport(Significant(copyGbps), options.Tuning.CpuThreads, results, notes);
        }
        finally
        {
            foreach (var k in kernels) k.Dispose();
        }
    }

    private static IEnumerable<KernelBenchmarkResult> Ablation(KernelBenchmarkOptions options, BenchmarkShapes shapes,
        IReadOnlyList<ILossKernels> kernels)
    {
        using var scope = torch.NewDisposeScope();
        var shape = shapes.Shapes[0];
        var teacher = torch.randn(shape);
        var ablated = torch.randn([options.Ablations, .. shape]);
        long bytes = (options.Ablations + 1L) * teacher.numel() * sizeof(float);
        string label = $"{shapes} A={options.Ablations}";
        var sums = new double[options.Ablations * shape[0]];
        var times = Measure(options,
            [() => UnfusedBaselines.AblationSquaredErrors(teacher, ablated),
             .. kernels.Select(k => (Action)(() => k.AblationSquaredErrors(teacher, ablated, sums)))]);
        for (int i = 0; i < kernels.Count; i++)
            yield return Result(options, AblationKernel, label, kernels[i], times[i + 1], times[0], bytes);
    }

    private static IEnumerable<KernelBenchmarkResult> Features(KernelBenchmarkOptions options, BenchmarkShapes shapes,
        IReadOnlyList<ILossKernels> kernels)
    {
        using var scope = torch.NewDisposeScope();
        var teacher = shapes.Shapes.Select(s => torch.randn(s)).ToArray();
        var leaves = shapes.Shapes.Select(s => torch.randn(s).requires_grad_()).ToArray();
        var weights = Enumerable.Repeat(1.0, teacher.Length).ToArray();
        long elements = teacher.Sum(t => t.numel());
        string label = shapes.ToString();
        var losses = kernels.Select(k => new FeatureDistillationLoss(k)).ToArray();

        var forward = Measure(options,
            [() => { using var s = torch.NewDisposeScope(); using var _ = torch.no_grad(); UnfusedBaselines.FeatureLoss(teacher, leaves, weights).item<float>(); },
             .. losses.Select(l => (Action)(() => l.Evaluate(teacher, leaves, weights)))]);
        // Student features are intermediate activations in training, not leaves: a free view makes
        // them so here. (A leaf would make autograd copy the fused gradient, because TorchSharp's
        // managed handle holds a second reference to it.)
        var training = Measure(options,
            [() => Step(leaves, fs => UnfusedBaselines.FeatureLoss(teacher, fs, weights)),
             .. losses.Select(l => (Action)(() => Step(leaves, fs => l.Apply(teacher, fs, weights))))]);
        for (int i = 0; i < kernels.Count; i++)
        {
            yield return Result(options, FeatureForwardKernel, label, kernels[i], forward[i + 1], forward[0], 2 * elements * sizeof(float));
            // training forward reads T (norms), then T and S again while writing the gradient; backward moves nothing
            yield return Result(options, FeatureForwardBackwardKernel, label, kernels[i], training[i + 1], training[0], 4 * elements * sizeof(float));
        }
    }

    /// <summary>One training-style forward + backward; gradients are cleared so none accumulate.</summary>
    private static void Step(torch.Tensor[] leaves, Func<torch.Tensor[], torch.Tensor> loss)
    {
        using var scope = torch.NewDisposeScope();
        loss(leaves.Select(l => l.view(l.shape)).ToArray()).backward();
        foreach (var l in leaves)
        {
            l.grad?.Dispose();
            l.grad = null;
        }
    }

    private static KernelBenchmarkResult Result(KernelBenchmarkOptions options, string kernel, string shape, ILossKernels k,
        double ms, double baselineMs, long bytes)
    {
        var r = new KernelBenchmarkResult(kernel, shape, k.Path.Name(), Significant(ms), Significant(baselineMs),
            Significant(baselineMs / ms), Significant(bytes / (ms * 1e-3) / 1e9));
        Log(options, $"{kernel} {k.Path.Name()} {shape}: {r.Ms:F3} ms vs {r.BaselineMs:F3} ms ({r.Speedup:F2}x, {r.Gbps:F1} GB/s)");
        return r;
    }

    /// <summary>
    /// Median wall time in milliseconds of each action. The actions take turns in rounds (baseline,
    /// then each candidate, a few calls each) so that load from other processes and libtorch's
    /// spinning OpenMP threads fall on all of them alike.
    /// </summary>
    private static double[] Measure(KernelBenchmarkOptions options, IReadOnlyList<Action> actions)
    {
        const int rounds = 3;
        int perRound = Math.Max(1, (options.Iterations + rounds - 1) / rounds);
        var samples = actions.Select(_ => new List<double>()).ToArray();
        foreach (var action in actions)
            for (int i = 0; i < options.WarmupIterations; i++) action();
        for (int round = 0; round < rounds; round++)
            for (int a = 0; a < actions.Count; a++)
                for (int i = 0; i < perRound; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    actions[a]();
                    samples[a].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
        return samples.Select(s => s.Order().ElementAt(s.Count / 2)).ToArray();
    }

    /// <summary>Rounds to 4 significant digits: readable JSON without hiding tiny values.</summary>
    internal static double Significant(double value)
    {
        if (value == 0 || !double.IsFinite(value)) return value;
        int digits = Math.Clamp(3 - (int)Math.Floor(Math.Log10(Math.Abs(value))), 0, 15);
        return Math.Round(value, digits);
    }

    private static void Log(KernelBenchmarkOptions options, string line) => options.Log?.Invoke(line);
}
