using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// A 2-d convolution (groups 1) as a sum over the kernel's taps of strided slices of the zero-padded input times
/// that tap's [O, C] weights: pad, slice, matmul and add, ops every libtorch backend implements. It runs where
/// libtorch has no convolution kernel: its C++ library has none for the <c>meta</c> device (Python's comes from
/// Python-side registrations), on which device placement is tested. Autograd differentiates it like any composition.
/// </summary>
internal static class ShiftedConvolution
{
    public static Tensor Run(Conv2d conv, Tensor x)
    {
        var s = ConvolutionSignature.Of(conv);
        if (s.Groups != 1) throw new NotSupportedException($"{s}: the shifted-slice convolution has no grouped form");
        using var scope = NewDisposeScope();
        long b = x.shape[0], h = x.shape[2], w = x.shape[3];
        long outH = (h + 2 * s.PaddingHeight - s.DilationHeight * (s.KernelHeight - 1) - 1) / s.StrideHeight + 1;
        long outW = (w + 2 * s.PaddingWidth - s.DilationWidth * (s.KernelWidth - 1) - 1) / s.StrideWidth + 1;
        var padded = nn.functional.pad(x, [s.PaddingWidth, s.PaddingWidth, s.PaddingHeight, s.PaddingHeight]);   // [B,C,H+2p,W+2p]
        var weight = conv.weight!;                                                                                // [O,C,kh,kw]
        Tensor? sum = null;
        for (long i = 0; i < s.KernelHeight; i++)
            for (long j = 0; j < s.KernelWidth; j++)
            {
                long top = i * s.DilationHeight, left = j * s.DilationWidth;
                var tap = padded[.., .., TensorIndex.Slice(top, top + (outH - 1) * s.StrideHeight + 1, s.StrideHeight),
                    TensorIndex.Slice(left, left + (outW - 1) * s.StrideWidth + 1, s.StrideWidth)];                      // [B,C,oH,oW]
                var tapWeight = weight[.., .., i, j];                                                             // [O,C]
                var term = matmul(tapWeight, tap.flatten(2));                                                     // [B,O,oH*oW]
                sum = sum is null ? term : sum + term;
            }
        var result = sum!.reshape(b, s.OutChannels, outH, outW);                                                 // [B,O,oH,oW]
        if (conv.bias is { } bias) result = result + bias.reshape(1, -1, 1, 1);
        return result.MoveToOuterDisposeScope();
    }
}
