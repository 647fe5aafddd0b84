using LaptopDiff.Runtime.Backends;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Blocks;

/// <summary>
/// After the backend check, float32 convolutions equal a float64 reference in value and in both gradients, on
/// the shapes where oneDNN is wrong on some CPUs (input channels not a multiple of 16, few output channels,
/// stride 2) as well as plain ones.
/// </summary>
public class ConvolutionBackendTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 24, 16, 1 }, { 20, 20, 1 }, { 40, 40, 2 }, { 48, 48, 2 }, { 32, 4, 1 }, { 320, 4, 1 }, { 4, 32, 1 }, { 64, 64, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ConvolutionsMatchTheFloat64Reference(int inChannels, int outChannels, int stride)
    {
        var check = ConvolutionBackend.EnsureCorrect();
        Assert.True(check.OneDnnCorrect || check.FallbackApplied, check.Detail);

        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var x = randn(new long[] { 2, inChannels, 8, 8 }, generator: generator).requires_grad_(true);
        var w = randn(new long[] { outChannels, inChannels, 3, 3 }, generator: generator).requires_grad_(true);
        var y = nn.functional.conv2d(x, w, strides: new long[] { stride, stride }, padding: new long[] { 1, 1 });
        y.square().sum().backward();

        var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var w64 = w.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var y64 = nn.functional.conv2d(x64, w64, strides: new long[] { stride, stride }, padding: new long[] { 1, 1 });
        y64.square().sum().backward();

        Assert.True(RelativeError(y, y64) < 1e-5, $"output: {RelativeError(y, y64)}");
        Assert.True(RelativeError(x.grad!, x64.grad!) < 1e-5, $"input gradient: {RelativeError(x.grad!, x64.grad!)}");
        Assert.True(RelativeError(w.grad!, w64.grad!) < 1e-5, $"weight gradient: {RelativeError(w.grad!, w64.grad!)}");
    }

    private static double RelativeError(Tensor actual, Tensor reference) =>
        (actual.to_type(ScalarType.Float64) - reference).abs().max().item<double>() / reference.abs().max().item<double>();
}
