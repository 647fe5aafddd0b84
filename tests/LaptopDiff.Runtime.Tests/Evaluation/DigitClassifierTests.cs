using LaptopDiff.Digits.Evaluation;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Evaluation;

/// <summary>The classifier learns real digits, round-trips through its file, and the shipped one meets its bar.</summary>
public sealed class DigitClassifierTests
{
    private static string Mnist => MnistDigits.DefaultPath(TestPaths.RepoRoot);

    [Fact]
    public void A_short_training_run_on_real_digits_generalises_and_round_trips()
    {
        using var train = MnistDigits.Load(Mnist, MnistSplit.Train);
        using var heldOut = MnistDigits.Load(Mnist, MnistSplit.HeldOut);
        using var scope = NewDisposeScope();
        var x = train.ToModelInput().narrow(0, 0, 1000);
        var y = train.Labels.narrow(0, 0, 1000);
        using var model = DigitClassifierTraining.Train(x, y, new DigitClassifierOptions { Epochs = 4, Seed = 3 });
        var test = heldOut.ToModelInput().narrow(0, 0, 300);
        double accuracy = DigitClassifierTraining.Accuracy(model, test, heldOut.Labels.narrow(0, 0, 300));
        Assert.InRange(accuracy, 0.6, 1.0);                   // chance is 0.1

        using var folder = new TempFolder();
        model.Save(folder.File("c.safetensors"), new Dictionary<string, string> { ["note"] = "test" });
        using var loaded = DigitClassifier.Load(folder.File("c.safetensors"));
        using var noGrad = no_grad();
        Assert.True(loaded.forward(test).allclose(model.forward(test)));
        Assert.Equal(new long[] { 300, DigitClassifier.FeatureDim }, loaded.Features(test).shape);
        Assert.Throws<ArgumentException>(() => loaded.Features(zeros(2, 1, 28, 28)));
        SafetensorsFile.Save(folder.File("other.safetensors"), [new("x", zeros(1))]);
        Assert.Contains("not a digit classifier", Assert.Throws<WeightsException>(() => DigitClassifier.Load(folder.File("other.safetensors"))).Message);
    }

    [Fact]
    public void Shipped_classifier_reaches_98_percent_on_the_held_out_digits()
    {
        using var classifier = DigitClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "digits", "classifier.safetensors"));
        using var heldOut = MnistDigits.Load(Mnist, MnistSplit.HeldOut);
        using var x = heldOut.ToModelInput();
        Assert.InRange(DigitClassifierTraining.Accuracy(classifier, x, heldOut.Labels), 0.98, 1.0);
    }
}
