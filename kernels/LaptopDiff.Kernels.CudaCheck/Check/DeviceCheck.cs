using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;

namespace LaptopDiff.Kernels.CudaCheck;

/// <summary>
/// Verifies and times the ILGPU kernels on a CUDA GPU (kernels/run-cuda-check.sh runs it):
/// <list type="number">
/// <item>kernel checks without TorchSharp: host data copied to a device buffer, every kernel run over
/// (a) that ILGPU buffer and (b) a <see cref="DevicePointerBuffer"/> wrapping its raw device pointer
/// (the zero-copy mechanism meant for CUDA tensors), compared with a float64 reference on the host;</item>
/// <item>on-device timings (data resident) against the device's measured copy bandwidth;</item>
/// <item>when libtorch loads: the TorchSharp path (CPU tensors staged to the GPU, autograd) against a
/// float64 TorchSharp reference, and <see cref="KernelBenchmark"/> for simd vs ilgpu-cuda.</item>
/// </list>
/// With <see cref="DeviceCheckOptions.UseCpuEmulator"/> the same runs on ILGPU's CPU accelerator at
/// small sizes, so the check itself is tested without a GPU.
/// </summary>
public static class DeviceCheck
{
    private const double SumTolerance = 1e-6, GradientTolerance = 1e-5;

    /// <summary>The report, or null when no CUDA device exists (and the emulator was not asked for).</summary>
    public static DeviceCheckReport? Run(DeviceCheckOptions options)
    {
        using var kernels = options.UseCpuEmulator
            ? IlgpuLossKernels.CreateCpuEmulator(options.Tuning)
            : IlgpuLossKernels.CreateCudaOrNull(options.Tuning);
        if (kernels is null) return null;
        bool small = options.UseCpuEmulator;
        var checks = new List<DeviceCheckResult>();
        var timings = new List<DeviceTiming>();
        var notes = new List<string>();
        var rng = new Random(options.Seed);
        Log(options, $"device: {kernels.Device}");

        long[][] oddPairs = small ? [[91], [1], [4099], [255]] : [[91], [1], [4099], [255], [1_000_003]];
        var featureSets = new List<(string Name, long[] Lengths, double Scale)> { ("odd sizes", Flat(oddPairs), 1) };
        if (!small)
        {
            featureSets.Add(("sd15 stages", Flat(KernelBenchmarkOptions.Sd15Stages.Shapes), 1));
            featureSets.Add(("digits stages", Flat(KernelBenchmarkOptions.DigitsStages.Shapes), 1));
        }
        featureSets.Add(("odd sizes x1e30", Flat(oddPairs), 1e30));
        featureSets.Add(("odd sizes x1e-30", Flat(oddPairs), 1e-30));
        foreach (var (name, lengths, scale) in featureSets)
            checks.AddRange(CheckFeatures(kernels, name, lengths, scale, rng, options));

        (string, int A, int B, long N)[] ablationSets = small
            ? [("odd", 3, 3, 409), ("single element", 1, 1, 1)]
            : [("odd", 5, 3, 4099), ("sd15 output", 8, 2, 4 * 64 * 64), ("digits output", 8, 64, 32 * 32)];
        foreach (var (name, a, b, n) in ablationSets)
            checks.Add(CheckAblation(kernels, name, a, b, n, rng, options));

        double copyGbps = DeviceCopyGbps(kernels.Accelerator, small ? 4L << 20 : 256L << 20);
        timings.AddRange(Time(kernels, small, rng, options));

        KernelBenchmarkReport? benchmark = null;
        if (options.IncludeTensorChecks || options.IncludeBenchmark)
        {
            try
            {
                if (options.IncludeTensorChecks) checks.AddRange(DeviceTensorCheck.Run(kernels, small, options.Seed));
                if (options.IncludeBenchmark && !small)
                    benchmark = KernelBenchmark.Run(new KernelBenchmarkOptions
                    {
                        Paths = [KernelPath.Simd, KernelPath.IlgpuCuda], Tuning = options.Tuning, Log = options.Log,
                    });
            }
            catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException)
            {
                notes.Add($"TorchSharp checks skipped: libtorch could not be loaded ({e.GetType().Name}: {e.Message})");
            }
        }
        notes.Add("zero-copy over TorchSharp-owned CUDA memory is untested: TorchSharp-cuda is not available to this project; " +
                  "the device-pointer wrap itself is checked above over ILGPU-allocated device memory");
        return new DeviceCheckReport(kernels.Device, options.Seed, KernelBenchmark.Significant(copyGbps), checks, timings, benchmark, notes);
    }

    private static IEnumerable<DeviceCheckResult> CheckFeatures(IlgpuLossKernels kernels, string name, long[] lengths,
        double scale, Random rng, DeviceCheckOptions options)
    {
        int k = lengths.Length;
        var teacher = lengths.Select(n => NonZero(rng, n, scale)).ToArray();
        var student = teacher.Select(t => Near(rng, t)).ToArray();
        var scales = Enumerable.Range(0, k).Select(i => (rng.NextDouble() * 4 - 2) / (scale * scale)).ToArray();
        using var device = DeviceArena.Create(kernels.Accelerator, [.. teacher, .. student], extraLengths: lengths);
        var layout = new PairLayout(device.Offsets, k, lengths);

        var expectedErrors = new double[k];
        var expectedNorms = new double[k];
        for (int p = 0; p < k; p++)
            for (long i = 0; i < lengths[p]; i++)
            {
                double t = teacher[p][i], d = student[p][i] - t;
                expectedErrors[p] += d * d;
                expectedNorms[p] += t * t;
            }

        foreach (var (viewName, view) in device.Views())
        {
            var errors = new double[k];
            var norms = new double[k];
            kernels.FeatureSums(view, layout, errors, norms);
            double worst = 0;
            for (int p = 0; p < k; p++)
                worst = Math.Max(worst, Math.Max(Relative(errors[p], expectedErrors[p]), Relative(norms[p], expectedNorms[p])));
            yield return Logged(options, new DeviceCheckResult($"feature sums, {name} [{viewName}]", worst, SumTolerance));

            var teacherNorms = new double[k];
            kernels.SquaredNorms(view, new PairLayout([.. device.Offsets[..k], .. device.Offsets[..k]], k, lengths), teacherNorms);
            double normWorst = Enumerable.Range(0, k).Max(p => Relative(teacherNorms[p], expectedNorms[p]));
            yield return Logged(options, new DeviceCheckResult($"squared norms, {name} [{viewName}]", normWorst, SumTolerance));

            var fusedErrors = new double[k];
            kernels.ScaledDifferences(view, layout, scales, fusedErrors);
            double fusedWorst = Enumerable.Range(0, k).Max(p => Relative(fusedErrors[p], expectedErrors[p]));
            yield return Logged(options, new DeviceCheckResult($"squared error of the training forward, {name} [{viewName}]", fusedWorst, SumTolerance));
            double gradientWorst = 0;
            for (int p = 0; p < k; p++)
            {
                var g = device.Read(2 * k + p);
                double maxExpected = 0, maxDiff = 0;
                for (long i = 0; i < lengths[p]; i++)
                {
                    double expected = scales[p] * ((double)student[p][i] - teacher[p][i]);
                    maxExpected = Math.Max(maxExpected, Math.Abs(expected));
                    maxDiff = Math.Max(maxDiff, Math.Abs(g[i] - expected));
                }
                gradientWorst = Math.Max(gradientWorst, maxExpected == 0 ? maxDiff : maxDiff / maxExpected);
            }
            yield return Logged(options, new DeviceCheckResult($"gradients of the training forward, {name} [{viewName}]", gradientWorst, GradientTolerance));
        }
    }

    private static DeviceCheckResult CheckAblation(IlgpuLossKernels kernels, string name, int a, int b, long n, Random rng, DeviceCheckOptions options)
    {
        var teacher = NonZero(rng, b * n, 1);
        var ablated = new float[a * b * n];
        for (int i = 0; i < a; i++) Near(rng, teacher).CopyTo(ablated, (long)i * b * n);
        using var device = DeviceArena.Create(kernels.Accelerator, [teacher, ablated], extraLengths: []);
        double worst = 0;
        foreach (var (_, view) in device.Views())
        {
            var sums = new double[a * b];
            kernels.AblationSums(view, device.Offsets[0], device.Offsets[1], a, b, n, sums);
            for (int s = 0; s < a * b; s++)
            {
                double expected = 0;
                long ts = (s % b) * n, ss = (long)s * n;
                for (long i = 0; i < n; i++) { double d = (double)ablated[ss + i] - teacher[ts + i]; expected += d * d; }
                worst = Math.Max(worst, Relative(sums[s], expected));
            }
        }
        return Logged(options, new DeviceCheckResult($"ablation sums, {name} A={a} B={b} N={n} [device buffer and pointer wrap]", worst, SumTolerance));
    }

    private static IEnumerable<DeviceTiming> Time(IlgpuLossKernels kernels, bool small, Random rng, DeviceCheckOptions options)
    {
        var shapes = small ? new BenchmarkShapes("tiny", [[4099], [255]]) : KernelBenchmarkOptions.Sd15Stages;
        var lengths = Flat(shapes.Shapes);
        long elements = lengths.Sum();
        var teacher = lengths.Select(n => NonZero(rng, n, 1)).ToArray();
        var student = teacher.Select(t => Near(rng, t)).ToArray();
        using (var device = DeviceArena.Create(kernels.Accelerator, [.. teacher, .. student], extraLengths: lengths))
        {
            var layout = new PairLayout(device.Offsets, lengths.Length, lengths);
            var errors = new double[lengths.Length];
            var norms = new double[lengths.Length];
            var scales = Enumerable.Repeat(1.0, lengths.Length).ToArray();
            var view = device.Views().First().View;
            double forwardMs = Median(options, () => kernels.FeatureSums(view, layout, errors, norms));
            var teacherLayout = new PairLayout([.. device.Offsets[..lengths.Length], .. device.Offsets[..lengths.Length]], lengths.Length, lengths);
            double normsMs = Median(options, () => kernels.SquaredNorms(view, teacherLayout, norms));
            double fusedMs = Median(options, () => kernels.ScaledDifferences(view, layout, scales, errors));
            yield return Logged(options, Timing("feature_loss_forward", shapes.ToString(), forwardMs, 2 * elements));
            // training: teacher norms, then value + gradient in one pass; backward is free (g = 1)
            yield return Logged(options, Timing("feature_loss_forward_backward", shapes.ToString(), normsMs + fusedMs, 4 * elements));
        }
        var ablationShapes = small
            ? new[] { new BenchmarkShapes("tiny-output", [[2, 409]]) }
            : [KernelBenchmarkOptions.Sd15Output, KernelBenchmarkOptions.Sd15LargestStage];
        foreach (var s in ablationShapes)
        {
            const int a = 8;
            int b = (int)s.Shapes[0][0];
            long n = s.Shapes[0].Skip(1).Aggregate(1L, (x, y) => x * y);
            using var device = DeviceArena.Create(kernels.Accelerator, [NonZero(rng, b * n, 1), NonZero(rng, a * b * n, 1)], extraLengths: []);
            var view = device.Views().First().View;
            var sums = new double[a * b];
            double ms = Median(options, () => kernels.AblationSums(view, device.Offsets[0], device.Offsets[1], a, b, n, sums));
            yield return Logged(options, Timing("ablation_sse", $"{s} A={a}", ms, (a + 1L) * b * n));
        }
    }

    private static double DeviceCopyGbps(Accelerator accelerator, long bytes)
    {
        long n = bytes / sizeof(float);
        using var source = accelerator.Allocate1D<float>(n);
        using var target = accelerator.Allocate1D<float>(n);
        source.MemSetToZero();
        accelerator.Synchronize();
        double best = double.MaxValue;
        for (int i = 0; i < 6; i++)
        {
            long start = Stopwatch.GetTimestamp();
            source.View.CopyTo(target.View);
            accelerator.Synchronize();
            if (i > 0) best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return 2.0 * bytes / best / 1e9;
    }

    private static DeviceTiming Timing(string kernel, string shape, double ms, long floats) =>
        new(kernel, shape, KernelBenchmark.Significant(ms), KernelBenchmark.Significant(floats * sizeof(float) / (ms * 1e-3) / 1e9));

    private static double Median(DeviceCheckOptions options, Action launch)
    {
        launch();
        var samples = new double[Math.Max(1, options.Iterations)];
        for (int i = 0; i < samples.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            launch();   // every launcher synchronises before returning
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(samples);
        return samples[samples.Length / 2];
    }

    private static float[] NonZero(Random rng, long n, double scale)
    {
        var values = new float[n];
        for (long i = 0; i < n; i++)
            values[i] = (float)((0.5 + rng.NextDouble()) * (rng.Next(2) * 2 - 1) * scale);
        return values;
    }

    private static float[] Near(Random rng, float[] teacher)
    {
        var values = new float[teacher.Length];
        for (long i = 0; i < values.Length; i++)
            values[i] = (float)(teacher[i] * (1 + 0.2 * (rng.NextDouble() - 0.5)));
        return values;
    }

    private static long[] Flat(IReadOnlyList<long[]> shapes) => shapes.Select(s => s.Aggregate(1L, (x, y) => x * y)).ToArray();

    private static double Relative(double actual, double expected) =>
        expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);

    private static T Logged<T>(DeviceCheckOptions options, T item)
    {
        Log(options, item!.ToString()!);
        return item;
    }

    private static void Log(DeviceCheckOptions options, string line) => options.Log?.Invoke(line);

    /// <summary>Host arrays copied into one device buffer (plus zeroed extra regions for outputs).</summary>
    private sealed class DeviceArena : IDisposable
    {
        private readonly Accelerator _accelerator;
        private readonly MemoryBuffer1D<float, Stride1D.Dense> _buffer;
        private readonly MemoryBuffer _wrapped;
        private readonly long[] _lengths;

        public long[] Offsets { get; }

        private DeviceArena(Accelerator accelerator, MemoryBuffer1D<float, Stride1D.Dense> buffer, long[] offsets, long[] lengths)
        {
            _accelerator = accelerator;
            _buffer = buffer;
            Offsets = offsets;
            _lengths = lengths;
            _wrapped = TensorArena.Wrap(accelerator, buffer.NativePtr, buffer.Length);
        }

        public static DeviceArena Create(Accelerator accelerator, float[][] inputs, long[] extraLengths)
        {
            var lengths = inputs.Select(x => (long)x.Length).Concat(extraLengths).ToArray();
            var offsets = new long[lengths.Length];
            long next = 0;
            for (int i = 0; i < lengths.Length; i++) { offsets[i] = next; next += (lengths[i] + 63) / 64 * 64; }
            var buffer = accelerator.Allocate1D<float>(Math.Max(next, 1));
            buffer.MemSetToZero();
            for (int i = 0; i < inputs.Length; i++) buffer.View.SubView(offsets[i], lengths[i]).CopyFromCPU(inputs[i]);
            accelerator.Synchronize();
            return new DeviceArena(accelerator, buffer, offsets, lengths);
        }

        /// <summary>The ILGPU buffer's own view, and the same memory through the raw-pointer wrap.</summary>
        public IEnumerable<(string Name, ArrayView<float> View)> Views()
        {
            yield return ("device buffer", _buffer.View.BaseView);
            yield return ("pointer wrap", _wrapped.AsArrayView<float>(0, _buffer.Length));
        }

        public float[] Read(int region)
        {
            var values = new float[_lengths[region]];
            _accelerator.Synchronize();
            _buffer.View.SubView(Offsets[region], _lengths[region]).CopyToCPU(values);
            return values;
        }

        public void Dispose()
        {
            _wrapped.Dispose();
            _buffer.Dispose();
        }
    }
}
