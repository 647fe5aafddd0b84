namespace LaptopDiff.Kernels;

public enum FeatureLossMode
{
    /// <summary>LAPTOP-Diff: sum_k w_k ||F_T^k - F_S^k||^2 / ||F_T^k||^2.</summary>
    Normalized,
    /// <summary>Baseline vanilla feature KD: sum_k w_k ||F_T^k - F_S^k||^2 (no division).</summary>
    Vanilla,
}

/// <param name="Mode">Normalized (the method) or Vanilla (the baseline).</param>
/// <param name="MinTeacherSquaredNorm">
/// The normalized denominator is <c>max(||F_T^k||^2, MinTeacherSquaredNorm)</c>: an all-zero teacher
/// feature gives a finite (large) term and gradient instead of NaN/inf. ||.||^2 is a plain sum of
/// squares over the whole tensor, so real stage features sit many orders of magnitude above 1e-12.
/// </param>
public sealed record FeatureLossOptions(
    FeatureLossMode Mode = FeatureLossMode.Normalized,
    double MinTeacherSquaredNorm = 1e-12)
{
    public static FeatureLossOptions Default { get; } = new();
}
