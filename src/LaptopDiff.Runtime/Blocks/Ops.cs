using LaptopDiff.Runtime.Backends;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>
/// Small shared helpers of the blocks: the one way they run a convolution, norm factories that initialise
/// their affine parameters (TorchSharp's <c>GroupNorm</c> allocates them with <c>torch.empty</c>), and
/// activations that work in place when no gradient is recorded.
/// </summary>
internal static class Ops
{
    /// <summary><paramref name="conv"/> applied to <paramref name="x"/> in the form checked correct on this CPU (<see cref="ConvolutionBackend"/>).</summary>
    public static Tensor Conv2d(Conv2d conv, Tensor x) => ConvolutionBackend.Conv2d(conv, x);

    /// <summary>
    /// <paramref name="norm"/> applied to <paramref name="x"/> [B,C,...]; on the meta device, where libtorch's C++ group
    /// norm has no kernel (it falls back to a batch norm that has none either), as its composition of mean and variance.
    /// </summary>
    public static Tensor Norm(GroupNorm norm, Tensor x)
    {
        if (x.device_type != DeviceType.META) return norm.forward(x);
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1];
        var groups = x.reshape(b, norm.num_groups, -1);                                  // [B,G,C/G*HW]
        var centered = groups - groups.mean([-1L], keepdim: true);                      // (var_mean has no meta kernel either)
        var variance = centered.square().mean([-1L], keepdim: true);                     // [B,G,1]
        var normalized = (centered * (variance + norm.eps).rsqrt()).reshape(x.shape);    // [B,C,...]
        var affine = new long[x.dim()];
        Array.Fill(affine, 1L);
        affine[1] = c;                                                                   // [1,C,1,1]
        return (normalized * norm.weight!.reshape(affine) + norm.bias!.reshape(affine)).MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="norm"/> over the last dimension of <paramref name="x"/>; on the meta device composed as <see cref="Norm(TorchSharp.Modules.GroupNorm, Tensor)"/>.</summary>
    public static Tensor Norm(LayerNorm norm, Tensor x)
    {
        if (x.device_type != DeviceType.META) return norm.forward(x);
        using var scope = NewDisposeScope();
        var centered = x - x.mean([-1L], keepdim: true);                                 // [..., C]
        var variance = centered.square().mean([-1L], keepdim: true);                     // [..., 1]
        return (centered * (variance + norm.eps).rsqrt() * norm.weight! + norm.bias!).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// softmax(q k^T / sqrt(d)) v for q [B,h,N,d], k and v [B,h,M,d]. Over a few keys (cross-attention to 77 text
    /// tokens, self-attention at 8x8) it is composed of two matrix products and a softmax: there libtorch's fused
    /// kernel took 1.6-2.1x the composed one's forward+backward (2 threads, M = 77: 16.7 against 10.2 ms at SD-1.5's
    /// [1,8,4096,40], 4.0 against 1.9 ms at tiny-sd15's [8,8,256,4]; build/bench/README.md). Over many
    /// keys the fused kernel, which never holds the [B,h,N,M] scores, is the faster (35 against 39 ms at M = 1,024) and
    /// the only one that fits (M = 4,096: 0.4 against 4.1 s). On the meta device, where the fused kernel's math fallback
    /// needs a <c>where</c> without a meta kernel, always composed.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v)
    {
        if (q.device_type != DeviceType.META && k.shape[^2] > ComposedAttentionMaxKeys)
            return nn.functional.scaled_dot_product_attention(q, k, v);
        using var scope = NewDisposeScope();
        using var scale = (1.0 / Math.Sqrt(q.shape[^1])).ToScalar();   // held until the call returns (a temporary may be finalized inside it)
        var scores = matmul(q, k.transpose(-2, -1)).mul_(scale);                         // [B,h,N,M]
        return matmul(scores.softmax(-1), v).MoveToOuterDisposeScope();                 // [B,h,N,d]
    }

    /// <summary>Key counts up to this take the composed attention (see <see cref="ScaledDotProductAttention"/>).</summary>
    public const int ComposedAttentionMaxKeys = 128;

    /// <summary>mean((a - b)^2): libtorch's <c>mse_loss</c>; on the meta device, whose backward has no kernel there, composed.</summary>
    public static Tensor MeanSquaredError(Tensor a, Tensor b) =>
        a.device_type != DeviceType.META ? nn.functional.mse_loss(a, b) : (a - b).square().mean();

    public static GroupNorm GroupNorm(int groups, int channels, double eps)
    {
        var norm = nn.GroupNorm(groups, channels, eps);
        ResetAffine(norm.weight, norm.bias);
        return norm;
    }

    public static LayerNorm LayerNorm(int channels, double eps)
    {
        var norm = nn.LayerNorm(channels, eps);
        ResetAffine(norm.weight, norm.bias);
        return norm;
    }

    private static void ResetAffine(Tensor? weight, Tensor? bias)
    {
        using var _ = no_grad();
        weight?.fill_(1.0f);
        bias?.zero_();
    }

    /// <summary>
    /// SiLU of a temporary the caller owns: in place when autograd is off (saves an allocation), a new
    /// tensor otherwise (in-place would overwrite the input autograd needs).
    /// </summary>
    public static Tensor SiluOwned(Tensor x) => is_grad_enabled() ? nn.functional.silu(x) : x.silu_();
}
