using LaptopDiff.Digits.Evaluation;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Sampling;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Evaluation;

/// <summary>
/// The evaluation end to end with a model whose samples are known: the ideal denoiser of one real held-out digit per
/// class (read from a one-hot class conditioner), which DDIM turns into exactly that digit.
/// </summary>
public sealed class DigitsEvaluatorTests
{
    private static string Mnist => MnistDigits.DefaultPath(TestPaths.RepoRoot);

    [Fact]
    public void Alignment_is_the_classifier_accuracy_on_what_was_generated_and_teacher_mse_compares_predictions()
    {
        using var heldOut = MnistDigits.Load(Mnist, MnistSplit.HeldOut);
        using var real = heldOut.ToModelInput();
        var targets = stack(Enumerable.Range(0, 10).Select(c => real[heldOut.IndicesOf(c)[0]]).ToArray());   // [10,1,32,32]
        using var conditioner = OneHotConditioner();
        var options = new DigitsEvaluationOptions { SamplesPerClass = 2, Steps = 5, GuidanceScale = 1.0, MseSamples = 20, BootstrapResamples = 50, Batch = 8 };
        var acp = options.Schedule.AlphasCumprod();
        NoisePredictor ideal = (x, t, states) =>
        {
            var target = targets.index_select(0, states[.., 0, ..10].argmax(1));
            return (x - Math.Sqrt(acp[t]) * target) / Math.Sqrt(1 - acp[t]);
        };

        using var classifier = new DigitClassifier();                    // untrained: the figures must follow it anyway
        classifier.eval();
        using var evaluator = new DigitsEvaluator(classifier, heldOut, options);
        using var labels = evaluator.SampleLabels();
        using var samples = evaluator.Generate(ideal, conditioner);
        Assert.True(samples.allclose(targets.repeat_interleave(2, 0), rtol: 0, atol: 1e-3));

        var report = evaluator.Score(samples, labels, 1.0, null);
        using var noGrad = no_grad();
        double expected = classifier.forward(samples).argmax(1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
        Assert.Equal(expected, report.ClassAlignment.Value, 9);
        Assert.InRange(report.ClassAlignment.Value, report.ClassAlignment.Low, report.ClassAlignment.High);
        Assert.Equal(20, report.Samples);
        Assert.True(report.FrechetDistance.Value > 0 && double.IsFinite(report.FrechetDistance.Value));

        Assert.Equal(0, evaluator.TeacherMse(ideal, conditioner, ideal, conditioner).Value, 12);
        NoisePredictor offset = (x, t, s) => ideal(x, t, s) + 0.1;
        Assert.Equal(0.01, evaluator.TeacherMse(offset, conditioner, ideal, conditioner).Value, 6);
    }

    private static ClassConditioner OneHotConditioner()
    {
        var conditioner = new ClassConditioner(10, 1, 32);
        using var noGrad = no_grad();
        conditioner.state_dict()[ClassConditioner.WeightKey].copy_(eye(11, 32));
        return conditioner;
    }
}
