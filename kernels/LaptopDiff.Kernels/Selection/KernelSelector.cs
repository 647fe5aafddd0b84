using System.Diagnostics;
using System.Globalization;
using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// Picks the implementation for this machine, once, at start-up: the configured preference, or
/// (Auto) the fastest candidate on a small calibration problem. Candidates for Auto: the SIMD path
/// always, ILGPU on CUDA when a CUDA device exists, the ILGPU CPU emulator only when asked for.
/// Call it once per process and keep the <see cref="KernelSelection"/>: creating ILGPU kernels
/// compiles them.
/// </summary>
public static class KernelSelector
{
    public static KernelSelection Select(KernelSelectionOptions? options = null)
    {
        options ??= new KernelSelectionOptions();
        options.Tuning.Validate();
        switch (options.Preference)
        {
            case KernelPreference.Simd:
                return new KernelSelection(new SimdLossKernels(options.Tuning), "configured: simd", []);
            case KernelPreference.Ilgpu:
                var cuda = IlgpuLossKernels.TryCreateCuda(options.Tuning);
                return cuda is not null
                    ? new KernelSelection(cuda, "configured: ilgpu (CUDA device found)", [])
                    : new KernelSelection(IlgpuLossKernels.CreateCpuEmulator(options.Tuning),
                        "configured: ilgpu, but no CUDA device: ILGPU CPU emulator (slow, for verification)", []);
        }

        var candidates = new List<ILossKernels> { new SimdLossKernels(options.Tuning) };
        if (IlgpuLossKernels.TryCreateCuda(options.Tuning) is { } gpu) candidates.Add(gpu);
        if (options.CalibrateCpuEmulator) candidates.Add(IlgpuLossKernels.CreateCpuEmulator(options.Tuning));
        var timings = Calibrate(candidates, options);
        int best = Enumerable.Range(0, timings.Count).MinBy(i => timings[i].Milliseconds);
        foreach (var loser in candidates.Where((_, i) => i != best)) loser.Dispose();
        string measured = string.Join(", ", timings.Select(t =>
            string.Create(CultureInfo.InvariantCulture, $"{t.Path.Name()} {t.Milliseconds:F3} ms")));
        string why = candidates.Count == 1
            ? $"auto: only candidate (no CUDA device; {measured})"
            : $"auto: fastest on calibration ({measured})";
        return new KernelSelection(candidates[best], why, timings);
    }

    private static List<CalibrationTiming> Calibrate(IReadOnlyList<ILossKernels> candidates, KernelSelectionOptions options)
    {
        using var scope = torch.NewDisposeScope();
        long n = Math.Max(64, options.CalibrationElements);
        var teacher = new[] { torch.randn(n), torch.randn(n / 2), torch.randn(n / 4) };
        var student = teacher.Select(t => torch.randn_like(t)).ToArray();
        var gradients = teacher.Select(t => torch.empty_like(t)).ToArray();
        var outputs = torch.randn(2, n / 16);
        var ablated = torch.randn(4, 2, n / 16);
        var errors = new double[3];
        var norms = new double[3];
        var sums = new double[8];
        double[] weights = [1, 1, 1];
        var timings = new List<CalibrationTiming>();
        foreach (var k in candidates)
        {
            void Problem()
            {
                k.FeatureSquaredSums(teacher, student, errors, norms);   // validation forward
                k.FeatureLossGradients(teacher, student, weights, FeatureLossOptions.Default, gradients, errors, norms);   // training
                k.AblationSquaredErrors(outputs, ablated, sums);
            }
            Problem();   // warm-up: first-call costs (pages, kernel caches) are not the steady state
            var samples = new double[Math.Max(1, options.CalibrationRepeats)];
            for (int i = 0; i < samples.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                Problem();
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Array.Sort(samples);
            timings.Add(new CalibrationTiming(k.Path, k.Device, samples[samples.Length / 2]));
        }
        return timings;
    }
}
