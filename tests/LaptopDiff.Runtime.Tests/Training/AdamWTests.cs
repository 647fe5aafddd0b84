using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

public class AdamWTests
{
    [Fact]
    public void TakesTheSameStepsAsTorchSharpsAdamW()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var start = randn(5, 3);
        var ours = new Parameter(start.clone());
        var theirs = new Parameter(start.clone());
        using var adam = new LaptopDiff.Runtime.Training.AdamW([("w", ours)], 0.9, 0.99, 1e-8, weightDecay: 0.05);
        var reference = optim.AdamW([theirs], lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weight_decay: 0.05);
        for (int step = 0; step < 4; step++)
        {
            var target = randn(5, 3);
            foreach (var p in new[] { ours, theirs })
            {
                p.grad = null;
                ((p - target).pow(2).sum() * (step + 1)).backward();
            }
            adam.Step(0.01);
            reference.step();
        }
        Assert.Equal(4, adam.StepCount);
        double diff = (ours - theirs).abs().max().item<float>();
        Assert.True(diff < 1e-6, $"max difference {diff}");
        Assert.True((ours - start).abs().max().item<float>() > 0.01, "the parameters should have moved");
    }
}
