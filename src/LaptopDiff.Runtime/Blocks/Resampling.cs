using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>diffusers' <c>Downsample2D</c> with a convolution: 3x3, stride 2, padding 1.</summary>
public sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;

    public Downsample2D(int channels) : base(nameof(Downsample2D))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2, padding: 1);
        RegisterComponents();
    }

    /// <summary>[B,C,H,W] -> [B,C,ceil(H/2),ceil(W/2)].</summary>
    public override Tensor forward(Tensor x) => Ops.Conv2d(conv, x);
}

/// <summary>diffusers' <c>Upsample2D</c> with a convolution: nearest-neighbour 2x (or to a given size), then 3x3.</summary>
public sealed class Upsample2D : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;

    public Upsample2D(int channels) : base(nameof(Upsample2D))
    {
        conv = nn.Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>[B,C,H,W] -> [B,C,2H,2W].</summary>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>[B,C,H,W] -> [B,C,size] (diffusers passes the next skip's size when the input size is odd).</summary>
    public Tensor forward(Tensor x, (long H, long W)? size)
    {
        using var scope = NewDisposeScope();
        var target = size ?? (2 * x.shape[2], 2 * x.shape[3]);
        var up = nn.functional.interpolate(x, size: new[] { target.H, target.W }, mode: InterpolationMode.Nearest);  // [B,C,H',W']
        return Ops.Conv2d(conv, up).MoveToOuterDisposeScope();
    }
}
