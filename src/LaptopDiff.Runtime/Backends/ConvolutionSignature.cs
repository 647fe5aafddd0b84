using TorchSharp;
using TorchSharp.Modules;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// What decides which oneDNN kernels a 2D convolution runs on, apart from the batch and image size: its channels,
/// kernel, stride, zero padding, dilation, groups and whether it has a bias. Convolutions of one signature share a
/// <see cref="ConvolutionPlan"/>.
/// </summary>
public readonly record struct ConvolutionSignature(
    long InChannels, long OutChannels, long KernelHeight, long KernelWidth, long StrideHeight, long StrideWidth,
    long PaddingHeight, long PaddingWidth, long DilationHeight, long DilationWidth, long Groups, bool HasBias)
{
    /// <summary>A convolution with square kernel, stride, padding and no dilation or groups.</summary>
    public static ConvolutionSignature Square(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, bool hasBias = true) =>
        new(inChannels, outChannels, kernel, kernel, stride, stride, padding, padding, 1, 1, 1, hasBias);

    /// <summary>The signature of <paramref name="conv"/>; only zero padding given as numbers is supported.</summary>
    public static ConvolutionSignature Of(Conv2d conv)
    {
        if (conv.padding_mode != PaddingModes.Zeros || conv.padding_type is not null || conv.padding is not { Length: 2 })
            throw new ArgumentException(
                $"convolutions run through ConvolutionBackend need zero padding given as numbers; this one has padding mode {conv.padding_mode}"
                + (conv.padding_type is { } type ? $" and padding {type}" : ""), nameof(conv));
        return new(conv.in_channels, conv.out_channels, conv.kernel_size[0], conv.kernel_size[1], conv.stride[0], conv.stride[1],
            conv.padding[0], conv.padding[1], conv.dilation[0], conv.dilation[1], conv.groups, conv.bias is not null);
    }

    /// <summary>The smallest input height and width the convolution accepts.</summary>
    internal long MinimumHeight => Math.Max(1, DilationHeight * (KernelHeight - 1) + 1 - 2 * PaddingHeight);
    internal long MinimumWidth => Math.Max(1, DilationWidth * (KernelWidth - 1) + 1 - 2 * PaddingWidth);

    /// <summary>E.g. "3x3 convolution 48->48 channels, stride 2".</summary>
    public override string ToString()
    {
        var text = $"{KernelHeight}x{KernelWidth} convolution {InChannels}->{OutChannels} channels";
        if (StrideHeight != 1 || StrideWidth != 1) text += StrideHeight == StrideWidth ? $", stride {StrideHeight}" : $", stride {StrideHeight}x{StrideWidth}";
        if (PaddingHeight != PaddingWidth) text += $", padding {PaddingHeight}x{PaddingWidth}";
        else if (PaddingHeight != (KernelHeight - 1) / 2) text += $", padding {PaddingHeight}";
        if (DilationHeight != 1 || DilationWidth != 1) text += $", dilation {DilationHeight}x{DilationWidth}";
        if (Groups != 1) text += $", {Groups} groups";
        return HasBias ? text : text + ", no bias";
    }
}
