using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>The plan also serves training (distillation): with autograd on, every live parameter gets a gradient.</summary>
public sealed class TrainingForwardTests
{
    [Fact]
    public void Backward_reaches_every_parameter_of_a_pruned_student()
    {
        using var student = TinyUNets.Load(TinyUNets.Sdxl, PruneGranularity.TransformerBlock,
            "down_blocks.0.resnets.1", "mid_block.attentions.0.transformer_blocks.1", "up_blocks.2.resnets.1");
        student.train();
        var inputs = TinyUNets.Inputs(TinyUNets.Sdxl);
        using var scope = NewDisposeScope();
        Assert.True(is_grad_enabled());

        var result = student.Forward(inputs, features: true);
        var loss = result.Sample.square().mean();
        foreach (var f in result.Features!.Values) loss = loss + f.square().mean();
        loss.backward();

        foreach (var (name, p) in student.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"{name} has a non-finite gradient");
        }
        // the same forward with autograd off (in-place activations) gives the same output
        using (no_grad())
            Close.Same(student.Forward(inputs).Sample, result.Sample.detach(), "no_grad vs grad forward");
    }
}
