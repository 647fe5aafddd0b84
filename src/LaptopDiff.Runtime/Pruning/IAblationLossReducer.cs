using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>
/// Reduces A ablated outputs against the teacher's to per-(ablation, sample) sums of squared error,
/// accumulated in double. <see cref="KernelLossReducer"/> runs the fused kernels (the sweep's default, see
/// <see cref="SweepRequest.Kernels"/>); <see cref="TorchLossReducer"/> is the plain reference.
/// </summary>
public interface IAblationLossReducer
{
    /// <summary>What runs the reduction, for logs (e.g. <c>simd (CPU, 2 threads)</c>).</summary>
    string Name { get; }

    /// <summary>
    /// <paramref name="sums"/>[a * B + b] = sum over elements of (ablated[a, b] - teacher[b])^2.
    /// Throws <see cref="ArithmeticException"/> for a non-finite sum.
    /// </summary>
    /// <param name="teacher">[B, ...] float32, contiguous.</param>
    /// <param name="ablated">[A, B, ...] float32, contiguous.</param>
    void SquaredErrorSums(Tensor teacher, Tensor ablated, Span<double> sums);
}

/// <summary>The reference reduction in TorchSharp: differences and squares in float64 on the outputs' device, the [A,B] sums read on the host.</summary>
public sealed class TorchLossReducer : IAblationLossReducer
{
    public string Name => "torch (float64 reference)";

    public void SquaredErrorSums(Tensor teacher, Tensor ablated, Span<double> sums)
    {
        using var scope = NewDisposeScope();
        long a = ablated.shape[0], b = teacher.shape[0];
        if (sums.Length != a * b) throw new ArgumentException($"need {a * b} sums for [{a}, {b}], got {sums.Length}", nameof(sums));
        var diff = ablated.to_type(ScalarType.Float64) - teacher.to_type(ScalarType.Float64).unsqueeze(0);   // [A,B,...]
        var perSample = diff.square().reshape(a, b, -1).sum(2).cpu().contiguous();                           // [A,B], read on the host
        perSample.data<double>().CopyTo(sums);
        for (int i = 0; i < sums.Length; i++)
            if (!double.IsFinite(sums[i]))
                throw new ArithmeticException($"ablation {i / b}, sample {i % b}: output loss is {sums[i]}; the ablated model produced non-finite outputs");
    }

    /// <summary>Per-sample mean squared error of one output [B, ...] against the teacher's: the sweep's loss unit.</summary>
    public double[] PerSampleMse(Tensor teacher, Tensor output)
    {
        var sums = new double[teacher.shape[0]];
        SquaredErrorSums(teacher, output.unsqueeze(0), sums);
        double elementsPerSample = teacher.numel() / (double)teacher.shape[0];
        for (int i = 0; i < sums.Length; i++) sums[i] /= elementsPerSample;
        return sums;
    }
}
