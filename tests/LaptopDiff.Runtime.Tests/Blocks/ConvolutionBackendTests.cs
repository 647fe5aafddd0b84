using LaptopDiff.Runtime.Backends;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Blocks;

/// <summary>
/// Convolutions run through <see cref="ConvolutionBackend.Conv2d"/> equal a float64 reference in value and in
/// both gradients, on the shapes where oneDNN is wrong on some CPUs (input channels not a multiple of 16, output
/// channels not a multiple of 16, stride 2 with 40 or 48 channels) as well as plain ones, at a batch and image size
/// other than the plan checks', with the machine's thread count and with one thread. On a CPU where oneDNN is
/// right these hold for the plain call; where it is wrong they hold only if every plan is.
/// </summary>
public class ConvolutionBackendTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<int, int, int, int, int, int> Shapes => new()
    {
        // in, out, kernel, stride, padding, image size (the plan checks use 4, or 5 for stride 2 without padding)
        { 24, 16, 3, 1, 1, 11 }, { 20, 20, 3, 1, 1, 11 }, { 40, 40, 3, 1, 1, 11 },    // forward: input channels not a multiple of 16
        { 32, 4, 3, 1, 1, 11 }, { 320, 4, 3, 1, 1, 11 }, { 16, 1, 3, 1, 1, 11 },     // input gradient: U-Net conv_out
        { 40, 40, 3, 2, 1, 11 }, { 48, 48, 3, 2, 1, 11 }, { 48, 48, 3, 2, 0, 13 },    // stride-2 input gradient (U-Net, VAE downsamplers)
        { 20, 4, 1, 1, 0, 11 }, { 40, 24, 1, 1, 0, 11 }, { 96, 48, 1, 1, 0, 11 },     // 1x1 shortcuts
        { 3, 32, 3, 1, 1, 11 }, { 4, 32, 3, 1, 1, 11 }, { 32, 3, 3, 1, 1, 11 },      // VAE-like conv_in / conv_out
        { 64, 64, 3, 1, 1, 11 }, { 96, 48, 3, 1, 1, 11 }, { 512, 512, 3, 1, 1, 6 }, { 512, 8, 3, 1, 1, 6 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Convolutions_match_the_float64_reference_with_both_gradients(int inChannels, int outChannels, int kernel, int stride, int padding, int size)
    {
        using var conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding);
        int threads = get_num_threads();
        try
        {
            foreach (int t in new[] { threads, 1 }.Distinct())
            {
                set_num_threads(t);
                AssertMatchesFloat64(conv, inChannels, size, $"{t} thread(s)");
            }
        }
        finally { set_num_threads(threads); }
    }

    // In float64 (libtorch's own kernels), so that this checks the formulation whatever oneDNN does on this CPU.
    [Fact]
    public void Channel_padded_forms_compute_the_same_function_and_gradients()
    {
        using var conv = nn.Conv2d(20, 4, 3, stride: 2, padding: 1, dtype: ScalarType.Float64);
        var plain = ConvolutionPlan.Plain(ConvolutionSignature.Of(conv));
        foreach (var (inChannels, outChannels) in new[] { (32L, 4L), (20L, 16L), (64L, 64L) })
            AssertMatchesFloat64(conv, 20, size: 9, $"padded to {inChannels}->{outChannels}", plain with { InChannels = inChannels, OutChannels = outChannels });
    }

    [Fact]
    public void The_plan_cache_returns_one_plan_per_signature_across_threads()
    {
        using var first = nn.Conv2d(28, 12, 3, padding: 1, bias: false);
        using var second = nn.Conv2d(28, 12, 3, padding: 1, bias: false);
        var signature = ConvolutionSignature.Of(first);
        Assert.Equal(signature, ConvolutionSignature.Of(second));

        var plans = new ConvolutionPlan[8];
        Parallel.For(0, plans.Length, i => plans[i] = ConvolutionBackend.PlanFor(ConvolutionSignature.Of(i % 2 == 0 ? first : second)));
        Assert.All(plans, plan => Assert.Same(plans[0], plan));
        Assert.Same(plans[0], ConvolutionBackend.PlanFor(signature));
        Assert.Equal(signature, plans[0].Signature);
        Assert.NotSame(plans[0], ConvolutionBackend.PlanFor(signature with { HasBias = true }));
        Assert.Contains(plans[0], ConvolutionBackend.PlansMade);
    }

    [Fact]
    public void Padding_other_than_zeros_given_as_numbers_is_refused_with_the_mode()
    {
        using var conv = nn.Conv2d(4, 4, 3, padding: 1, padding_mode: PaddingModes.Reflect);
        var e = Assert.Throws<ArgumentException>(() => ConvolutionBackend.Conv2d(conv, randn(2, 4, 8, 8)));
        Assert.Contains("Reflect", e.Message);
    }

    /// <summary>Output and the input, weight and bias gradients of <paramref name="plan"/> (default: the backend's) against float64.</summary>
    private static void AssertMatchesFloat64(Conv2d conv, int inChannels, int size, string label, ConvolutionPlan? plan = null)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var x = randn([3, inChannels, size, size], dtype: conv.weight!.dtype, generator: generator).requires_grad_(true);
        foreach (var p in conv.parameters()) p.grad?.zero_();
        var y = plan is null ? ConvolutionBackend.Conv2d(conv, x) : plan.Run(conv, x);
        var gradOut = randn(y.shape, generator: generator);
        y.backward([gradOut]);

        var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var w64 = conv.weight!.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var b64 = conv.bias!.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var y64 = nn.functional.conv2d(x64, w64, b64, conv.stride, conv.padding);
        y64.backward([gradOut.to_type(ScalarType.Float64)]);

        AssertClose(y, y64, $"output ({label})");
        AssertClose(x.grad!, x64.grad!, $"input gradient ({label})");
        AssertClose(conv.weight!.grad!, w64.grad!, $"weight gradient ({label})");
        AssertClose(conv.bias!.grad!, b64.grad!, $"bias gradient ({label})");
    }

    private static void AssertClose(Tensor actual, Tensor reference, string what)
    {
        double error = (actual.detach().to_type(ScalarType.Float64) - reference).abs().max().item<double>() / reference.abs().max().item<double>();
        Assert.True(error < Tolerance, $"{what}: relative error {error}");
    }
}
