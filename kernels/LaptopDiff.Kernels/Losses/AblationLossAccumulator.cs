using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// Running output losses of A single-unit ablations over the calibration set: per ablation a, the
/// per-sample loss <c>s_ab = ||eps_a(x_b) - eps_T(x_b)||^2</c> (plain sum over the sample's elements)
/// accumulated in double into its sum, count and (Welford) spread, so the sweep reads one [A, B] array
/// per batch and gets mean and standard error at the end. Not thread-safe.
/// </summary>
public sealed class AblationLossAccumulator
{
    private readonly ILossKernels _kernels;
    private readonly double[] _sum, _mean, _m2;
    private readonly long[] _count;
    private double[] _lastBatch = [];

    public AblationLossAccumulator(ILossKernels kernels, int ablations)
    {
        _kernels = kernels ?? throw new ArgumentNullException(nameof(kernels));
        if (ablations < 1) throw new ArgumentOutOfRangeException(nameof(ablations), ablations, "need at least one ablation");
        _sum = new double[ablations];
        _mean = new double[ablations];
        _m2 = new double[ablations];
        _count = new long[ablations];
    }

    public int Ablations => _sum.Length;

    /// <summary>Adds one batch: teacher output T [B, ...] and all ablated outputs S [A, B, ...].</summary>
    public void Add(torch.Tensor teacherOutput, torch.Tensor ablatedOutputs)
    {
        if (ablatedOutputs.dim() < 1 || ablatedOutputs.shape[0] != Ablations)
            throw new ArgumentException($"ablated outputs must be [{Ablations}, B, ...] for {Ablations} ablations, got {LossInputs.Shape(ablatedOutputs)}");
        var batch = new double[Ablations * teacherOutput.shape[0]];
        _kernels.AblationSquaredErrors(teacherOutput, ablatedOutputs, batch);
        Accumulate(batch, firstAblation: 0, ablations: Ablations);
    }

    /// <summary>Adds one batch of a single ablation: T [B, ...] and its ablated output [B, ...].</summary>
    public void Add(torch.Tensor teacherOutput, torch.Tensor ablatedOutput, int ablation)
    {
        if ((uint)ablation >= (uint)Ablations)
            throw new ArgumentOutOfRangeException(nameof(ablation), ablation, $"must be in [0, {Ablations})");
        using var stacked = ablatedOutput.unsqueeze(0);   // a view: [1, B, ...]
        var batch = new double[teacherOutput.dim() < 1 ? 0 : teacherOutput.shape[0]];
        _kernels.AblationSquaredErrors(teacherOutput, stacked, batch);
        Accumulate(batch, firstAblation: ablation, ablations: 1);
    }

    /// <summary>Per-sample losses of the last batch, [A, B] row-major (one row for a single-ablation add).</summary>
    public ReadOnlySpan<double> LastBatch => _lastBatch;

    /// <summary>Samples accumulated for ablation a.</summary>
    public long Count(int ablation) => _count[ablation];

    /// <summary>Sum of the per-sample losses of ablation a.</summary>
    public double Total(int ablation) => _sum[ablation];

    /// <summary>Mean per-sample loss of ablation a: the criterion s_a = L(e_a).</summary>
    public double Mean(int ablation) => _count[ablation] == 0
        ? throw new InvalidOperationException($"ablation {ablation} has no samples yet")
        : _sum[ablation] / _count[ablation];

    /// <summary>Standard error of <see cref="Mean"/> (sample standard deviation / sqrt(n)); NaN with fewer than 2 samples.</summary>
    public double StandardError(int ablation)
    {
        long n = _count[ablation];
        return n < 2 ? double.NaN : Math.Sqrt(_m2[ablation] / (n - 1) / n);
    }

    public double[] Means() => Enumerable.Range(0, Ablations).Select(Mean).ToArray();

    private void Accumulate(double[] batch, int firstAblation, int ablations)
    {
        int samples = batch.Length / ablations;
        for (int i = 0; i < batch.Length; i++)   // check all before changing any total
            if (!double.IsFinite(batch[i]))
                throw new ArithmeticException(
                    $"ablation {firstAblation + i / samples}, sample {i % samples}: output loss is {batch[i]}; " +
                    "the ablated model produced non-finite outputs");
        for (int a = 0; a < ablations; a++)
        {
            int row = firstAblation + a;
            for (int b = 0; b < samples; b++)
            {
                double v = batch[a * samples + b];
                long n = ++_count[row];
                double delta = v - _mean[row];
                _mean[row] += delta / n;
                _m2[row] += delta * (v - _mean[row]);
                _sum[row] += v;
            }
        }
        _lastBatch = batch;
    }
}
