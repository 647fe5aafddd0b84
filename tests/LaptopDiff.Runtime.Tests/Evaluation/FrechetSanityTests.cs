using LaptopDiff.Digits.Evaluation;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Evaluation;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Evaluation;

/// <summary>With the shipped classifier: two disjoint halves of the real held-out digits are close, noise is far.</summary>
public sealed class FrechetSanityTests(ITestOutputHelper output)
{
    [Fact]
    public void Real_halves_are_close_and_noise_is_far_in_classifier_features()
    {
        using var classifier = DigitClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "digits", "classifier.safetensors"));
        using var heldOut = MnistDigits.Load(MnistDigits.DefaultPath(TestPaths.RepoRoot), MnistSplit.HeldOut);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = classifier.Features(heldOut.ToModelInput());
        var noise = classifier.Features(rand(500, 1, 32, 32, generator: new Generator(0)) * 2 - 1);
        double halves = FrechetDistance.Compute(features.narrow(0, 0, 500), features.narrow(0, 500, 500));
        double realVsNoise = FrechetDistance.Compute(features, noise);
        output.WriteLine($"Frechet distance: real half vs real half {halves:F4}, real vs uniform noise {realVsNoise:F4}");
        Assert.True(halves < 0.05 * realVsNoise, $"halves {halves}, noise {realVsNoise}");
    }
}
