using LaptopDiff.Runtime.Execution;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>Runs, captures and resumes leave no tensor behind once their results are disposed (sweeps run thousands).</summary>
public sealed class TensorLifetimeTests
{
    [Fact]
    public void Run_capture_and_resume_release_every_intermediate()
    {
        using var model = TinyUNets.Load(TinyUNets.Sdxl, PruneGranularity.TransformerBlock);
        var plan = model.Plan;
        var inputs = TinyUNets.Inputs(TinyUNets.Sdxl);
        var mask = plan.Mask("down_blocks.2.attentions.0.transformer_blocks.1", "up_blocks.0.resnets.1");
        using var _ = no_grad();
        var stats = DisposeScopeManager.Statistics;
        plan.Run(inputs, mask, features: true).Dispose();                         // warm-up (lazy allocations)

        long before = stats.ThreadTotalLiveCount;
        plan.Run(inputs, mask, features: true).Dispose();
        var states = new List<PlanState>();
        var at = new[] { "down_blocks.1.resnets.0", "mid_block.attentions.0.transformer_blocks.1", "up_blocks.1.resnets.2" }.Select(plan.StepOf);
        plan.RunCapturing(inputs, at, states.Add, features: true).Dispose();
        Assert.Equal(3, states.Count);
        foreach (var s in states)
        {
            plan.RunFrom(s, mask, features: true).Dispose();
            plan.Advance(s, plan.Steps.Count - 1, mask).Dispose();
            s.Dispose();
        }
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }
}
