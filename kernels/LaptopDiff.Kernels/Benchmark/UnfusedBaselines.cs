using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>What a plain TorchSharp user writes; the reference point of every speedup.</summary>
public static class UnfusedBaselines
{
    /// <summary>A separate <c>(S[a] - T).pow(2).sum().item()</c> per ablation.</summary>
    public static double[] AblationSquaredErrors(torch.Tensor teacher, torch.Tensor ablated)
    {
        using var scope = torch.NewDisposeScope();
        var sums = new double[ablated.shape[0]];
        for (int a = 0; a < sums.Length; a++) sums[a] = (ablated[a] - teacher).pow(2).sum().item<float>();
        return sums;
    }

    /// <summary><c>sum_k w_k (F_S - F_T).pow(2).sum() / F_T.pow(2).sum()</c> (or without the division).</summary>
    public static torch.Tensor FeatureLoss(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        IReadOnlyList<double> weights, FeatureLossMode mode = FeatureLossMode.Normalized)
    {
        torch.Tensor? total = null;
        for (int k = 0; k < teacher.Count; k++)
        {
            var term = (student[k] - teacher[k]).pow(2).sum();
            if (mode == FeatureLossMode.Normalized) term = term / teacher[k].pow(2).sum();
            term = term * weights[k];
            total = total is null ? term : total + term;
        }
        return total!;
    }
}
