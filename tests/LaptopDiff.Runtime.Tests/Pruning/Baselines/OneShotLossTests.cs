using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Pruning.Baselines;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Tests.Pruning.Additivity;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pruning.Baselines;

/// <summary>The one-shot loss is the plain per-sample MSE of the pruned model against the teacher, mean and standard error.</summary>
public class OneShotLossTests
{
    /// <summary>Per-sample MSE of <paramref name="pruned"/> against the teacher, with plain torch ops in float64.</summary>
    private static List<double> PlainLosses(Func<UNetInputs, Tensor> pruned, UNet2DCondition teacher, AdditivityInputs inputs)
    {
        var losses = new List<double>();
        using var mode = inference_mode();
        foreach (var batch in inputs.Batches)
        {
            using var scope = NewDisposeScope();
            var diff = pruned(batch).to_type(ScalarType.Float64) - teacher.Forward(batch).Sample.to_type(ScalarType.Float64);
            losses.AddRange(diff.square().reshape(diff.shape[0], -1).mean(new long[] { 1 }).data<double>().ToArray());
        }
        return losses;
    }

    private static void AssertEstimate(List<double> plain, LossEstimate estimate)
    {
        double mean = plain.Average();
        double se = Math.Sqrt(plain.Sum(l => (l - mean) * (l - mean)) / (plain.Count - 1) / plain.Count);
        Assert.Equal(plain.Count, estimate.Samples);
        Assert.Equal(mean, estimate.Mean, mean * 1e-9);
        Assert.Equal(se, estimate.StdErr, se * 1e-6);
        Assert.True(estimate.Mean > 0 && estimate.StdErr > 0);
    }

    [Fact]
    public void UnitSelectionLossIsTheMaskedForwardsPerSampleMse()
    {
        using var teacher = TinyAdditivity.LoadModel();
        using var inputs = AdditivityInputs.Synthetic(teacher.Layout, samples: 6, seed: 4, batchSize: 4, tokens: 8);   // two batches, uneven
        var selection = PrunedSelection.FromPreset(PruningPresets.TryApply(PruningPresets.BkSdmBase, teacher.Layout, out _)!);
        using var loss = new OneShotLoss(teacher, inputs);
        var mask = teacher.Plan.Mask(selection.Removed.ToArray());
        AssertEstimate(PlainLosses(b => teacher.Forward(b, mask).Sample, teacher, inputs), loss.Measure(selection));
    }

    [Fact]
    public void MidCutSelectionRunsThePrunedModelWithTheTeachersTensors()
    {
        using var teacher = TinyUNets.Load("tiny-sdxl", PruneGranularity.TransformerBlock);
        using var inputs = AdditivityInputs.Synthetic(teacher.Layout, samples: 4, seed: 2, batchSize: 4, tokens: 8);
        var selection = PrunedSelection.FromPreset(PruningPresets.TryApply(PruningPresets.Ssd1b, teacher.Layout, out var reason) ?? throw new Exception(reason));
        Assert.Equal(MidKind.Resnet, selection.MidReduction);
        using var student = new UNet2DCondition(selection.Layout);
        TinyUNets.CopyWeights(student, TinyUNets.Weights("tiny-sdxl"));
        student.eval();
        using var loss = new OneShotLoss(teacher, inputs);
        AssertEstimate(PlainLosses(b => student.Forward(b).Sample, teacher, inputs), loss.Measure(selection));
    }
}
