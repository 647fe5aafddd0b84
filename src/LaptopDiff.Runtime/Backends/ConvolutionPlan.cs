using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// How the convolutions of one <see cref="Signature"/> run. The plain form is the module's own call. The
/// channel-padded form appends zero input channels to the input and the weight and zero filters to the weight and
/// bias, convolves, and keeps the real output channels: the same function with the same gradients (padding and
/// slicing are differentiable and the zeros contribute nothing), computed by other oneDNN kernels, which on some
/// CPUs are the correct ones.
/// </summary>
/// <param name="Signature">The convolution this plan is for.</param>
/// <param name="InChannels">Input channels the convolution runs with (the signature's, or more when padded).</param>
/// <param name="OutChannels">Output channels it runs with before the padding filters are sliced off.</param>
/// <param name="MaxRelativeError">
/// The worst relative error of this form against float64 in its per-shape check; null where no per-shape check ran
/// (oneDNN passed the process-wide probe).
/// </param>
/// <param name="NeedsNative">
/// No oneDNN form of this shape was correct: oneDNN was switched off for the process (libtorch's native convolution).
/// </param>
public sealed record ConvolutionPlan(ConvolutionSignature Signature, long InChannels, long OutChannels, double? MaxRelativeError, bool NeedsNative)
{
    /// <summary>The module's own call, unchecked.</summary>
    public static ConvolutionPlan Plain(ConvolutionSignature signature) =>
        new(signature, signature.InChannels, signature.OutChannels, null, false);

    public bool IsPadded => InChannels != Signature.InChannels || OutChannels != Signature.OutChannels;

    /// <summary><paramref name="conv"/> (of this plan's signature) applied to <paramref name="x"/> [B,C,H,W] in this plan's form.</summary>
    public Tensor Run(Conv2d conv, Tensor x) => IsPadded ? Compute(x, conv.weight!, conv.bias) : conv.forward(x);

    /// <summary>This plan's form as a function of the input, weight and bias (what the checks run).</summary>
    internal Tensor Compute(Tensor x, Tensor weight, Tensor? bias)
    {
        var s = Signature;
        long[] strides = [s.StrideHeight, s.StrideWidth], padding = [s.PaddingHeight, s.PaddingWidth], dilation = [s.DilationHeight, s.DilationWidth];
        if (!IsPadded) return nn.functional.conv2d(x, weight, bias, strides, padding, dilation, s.Groups);

        using var scope = NewDisposeScope();
        long extraIn = InChannels - s.InChannels, extraOut = OutChannels - s.OutChannels;
        // pad pairs run from the last dimension: (W, H, C) of x [B,C,H,W]; (kW, kH, Cin, Cout) of the weight
        if (extraIn > 0) x = nn.functional.pad(x, [0, 0, 0, 0, 0, extraIn]);                  // [B,Cin',H,W]
        weight = nn.functional.pad(weight, [0, 0, 0, 0, 0, extraIn, 0, extraOut]);            // [Cout',Cin',kH,kW]
        if (bias is not null && extraOut > 0) bias = nn.functional.pad(bias, [0, extraOut]); // [Cout']
        var y = nn.functional.conv2d(x, weight, bias, strides, padding, dilation, s.Groups);  // [B,Cout',H',W']
        if (extraOut > 0) y = y.narrow(-3, 0, s.OutChannels).contiguous();                    // [B,Cout,H',W']
        return y.MoveToOuterDisposeScope();
    }
}
