using LaptopDiff.Runtime.Pipelines;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>The guidance combination on hand-made predictions (uncond rows first, as the U-Net batch is laid out).</summary>
public sealed class DenoisingLoopTests
{
    [Fact]
    public void Guidance_extrapolates_from_the_unconditional_half()
    {
        using var prediction = tensor(new float[] { 1, 2, 3, 4, 2, 2, 2, 2 }).reshape(2, 1, 2, 2);   // [uncond; cond]
        using var eps = DenoisingLoop.Guide(prediction, new Guidance(3));
        // u + 3 (c - u) = 3c - 2u = 6 - 2u
        Assert.Equal(new float[] { 4, 2, 0, -2 }, eps.data<float>().ToArray());
    }

    [Fact]
    public void Guidance_rescale_matches_the_conditional_standard_deviation()
    {
        using var prediction = tensor(new float[] { 0, 0, 0, 0, 1, 2, 3, 4 }).reshape(2, 1, 2, 2);
        // guided = 2c (g = 2, u = 0): std(2c) = 2 std(c), so full rescale gives c itself, half gives 0.5 c + 0.5 (2c) = 1.5 c
        using var full = DenoisingLoop.Guide(prediction, new Guidance(2, Rescale: 1));
        using var half = DenoisingLoop.Guide(prediction, new Guidance(2, Rescale: 0.5));
        Assert.All(full.data<float>().ToArray().Zip([1f, 2, 3, 4]), p => Assert.Equal(p.Second, p.First, 5));
        Assert.All(half.data<float>().ToArray().Zip([1.5f, 3, 4.5f, 6]), p => Assert.Equal(p.Second, p.First, 5));
    }

    [Fact]
    public void Guidance_of_one_or_less_takes_the_prediction_as_is()
    {
        using var prediction = tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 1, 2, 2);
        Assert.False(new Guidance(1).IsGuided);
        Assert.False(new Guidance(0.5).IsGuided);
        using var eps = DenoisingLoop.Guide(prediction, new Guidance(1));
        Assert.Equal(new float[] { 1, 2, 3, 4 }, eps.data<float>().ToArray());
    }
}
