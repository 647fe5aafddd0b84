namespace LaptopDiff.Kernels;

/// <summary>
/// Everything one feature-loss evaluation computed, in double, per pair k: the un-normalized
/// squared error ||F_T - F_S||^2 (for logging), the teacher's ||F_T||^2, the denominator actually
/// used (1 in vanilla mode), and the weighted term w_k * error / denominator.
/// </summary>
public sealed record FeatureLossValues(
    FeatureLossMode Mode,
    IReadOnlyList<double> Weights,
    IReadOnlyList<double> SquaredErrors,
    IReadOnlyList<double> TeacherSquaredNorms,
    IReadOnlyList<double> Denominators,
    IReadOnlyList<double> Terms)
{
    /// <summary>The loss: sum of <see cref="Terms"/>.</summary>
    public double Total => Terms.Sum();

    /// <summary>Per-pair scale of the backward: dL/dF_S^k = GradientScale(k) * (F_S^k - F_T^k).</summary>
    public double GradientScale(int pair, double gradOutput) => gradOutput * 2.0 * Weights[pair] / Denominators[pair];

    internal static FeatureLossValues From(FeatureLossOptions options, IReadOnlyList<double> weights,
        double[] squaredErrors, double[] teacherSquaredNorms)
    {
        var denominators = DenominatorsFor(options, teacherSquaredNorms);
        var terms = squaredErrors.Select((e, k) => weights[k] * e / denominators[k]).ToArray();
        return new FeatureLossValues(options.Mode, weights.ToArray(), squaredErrors, teacherSquaredNorms, denominators, terms);
    }

    /// <summary>1 (vanilla) or max(||F_T^k||^2, MinTeacherSquaredNorm) (normalized).</summary>
    internal static double[] DenominatorsFor(FeatureLossOptions options, double[] teacherSquaredNorms) =>
        teacherSquaredNorms.Select(n => Denominator(options, n)).ToArray();

    internal static double Denominator(FeatureLossOptions options, double teacherSquaredNorm) =>
        options.Mode == FeatureLossMode.Vanilla ? 1.0 : Math.Max(teacherSquaredNorm, options.MinTeacherSquaredNorm);
}
