using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Weights;

internal static class TensorAssert
{
    /// <summary>Same dtype, same shape, same bytes (so NaN payloads and -0.0 count too).</summary>
    public static void BitwiseEqual(Tensor expected, Tensor actual, string name = "")
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.contiguous();
        using var a = actual.contiguous();
        Assert.True(e.bytes.SequenceEqual(a.bytes), $"tensor '{name}' differs");
    }
}
