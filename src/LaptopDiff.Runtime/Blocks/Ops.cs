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
