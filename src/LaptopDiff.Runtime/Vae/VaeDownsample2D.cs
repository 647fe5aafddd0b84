using LaptopDiff.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// diffusers' <c>Downsample2D</c> as the VAE encoder builds it (<c>padding=0</c>): zero-pad one column on the right
/// and one row at the bottom, then a 3x3 convolution with stride 2 and no padding.
/// </summary>
public sealed class VaeDownsample2D : nn.Module<Tensor, Tensor>
{
    private static readonly long[] RightBottom = [0, 1, 0, 1];   // (left, right, top, bottom)

    private readonly Conv2d conv;

    public VaeDownsample2D(int channels) : base(nameof(VaeDownsample2D))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2, padding: 0L);
        RegisterComponents();
    }

    /// <summary>[B,C,H,W] -> [B,C,floor(H/2),floor(W/2)].</summary>
    public override Tensor forward(Tensor x)
    {
        using var padded = nn.functional.pad(x, RightBottom, PaddingModes.Constant, 0);   // [B,C,H+1,W+1]
        return Ops.Conv2d(conv, padded);
    }
}
