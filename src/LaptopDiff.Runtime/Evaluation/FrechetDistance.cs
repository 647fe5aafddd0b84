using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Evaluation;

/// <summary>
/// Frechet distance between Gaussians fitted to two feature sets (FID's formula on the digit classifier's features):
/// |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2). In float64; the matrix square roots come from
/// eigen-decompositions of symmetric matrices (eigh), negative round-off eigenvalues clamped to 0.
/// </summary>
public static class FrechetDistance
{
    /// <param name="a">[N, D] features (N >= 2).</param>
    /// <param name="b">[M, D] features (M >= 2).</param>
    public static double Compute(Tensor a, Tensor b)
    {
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != b.shape[1] || a.shape[0] < 2 || b.shape[0] < 2)
            throw new ArgumentException($"need two [N>=2, D] feature sets of one width, got [{string.Join(",", a.shape)}] and [{string.Join(",", b.shape)}]");
        using var scope = NewDisposeScope();
        var (muA, covA) = Moments(a);
        var (muB, covB) = Moments(b);
        var rootA = SymmetricSqrt(covA);
        var inner = rootA.matmul(covB).matmul(rootA);
        inner = (inner + inner.T) / 2;                                   // exact symmetry for eigh
        double traceRoot = linalg.eigvalsh(inner).clamp_min(0).sqrt().sum().item<double>();
        double meanTerm = (muA - muB).square().sum().item<double>();
        return meanTerm + covA.trace().item<double>() + covB.trace().item<double>() - 2 * traceRoot;
    }

    private static (Tensor Mean, Tensor Cov) Moments(Tensor x)
    {
        var d = x.to_type(ScalarType.Float64);
        var mean = d.mean([0]);
        var centered = d - mean;
        return (mean, centered.T.matmul(centered) / (d.shape[0] - 1));
    }

    private static Tensor SymmetricSqrt(Tensor s)
    {
        var (values, vectors) = linalg.eigh(s);
        return vectors.matmul(diag(values.clamp_min(0).sqrt())).matmul(vectors.T);
    }
}
