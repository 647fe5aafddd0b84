using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>Activation checkpointing per stage gives the plain backward's gradients and output (float noise only).</summary>
public sealed class StageCheckpointTests
{
    public StageCheckpointTests() => set_num_threads(1);

    // float32 sums taken in another order: a relative L2 of ~1e-7 is noise, a wrong gradient is off by order 1
    private const double GradientTolerance = 1e-5;

    /// <summary>
    /// tiny-sdxl with block granularity: down.0 keeps only its downsampler (both its skip pushes pass the stage input
    /// through), the mid block loses a transformer block, an up ResNet is removed (its skip dropped) and one is masked.
    /// </summary>
    [Fact]
    public void Checkpointed_forward_and_backward_equal_the_plain_ones_on_a_pruned_masked_student()
    {
        using var student = TinyUNets.Load(TinyUNets.Sdxl, PruneGranularity.TransformerBlock,
            "down_blocks.0.resnets.0", "down_blocks.0.resnets.1", "mid_block.attentions.0.transformer_blocks.1", "up_blocks.2.resnets.1");
        student.train();
        var mask = student.Plan.Mask("up_blocks.1.resnets.0");
        var inputs = TinyUNets.Inputs(TinyUNets.Sdxl);

        var (plainOut, plainGrads) = Gradients(student, inputs, mask, checkpoint: false);
        var (checkpointOut, checkpointGrads) = Gradients(student, inputs, mask, checkpoint: true);

        Close.Same(checkpointOut, plainOut, "checkpointed output");
        foreach (var (name, grad) in plainGrads)
        {
            Assert.True(checkpointGrads.TryGetValue(name, out var other), $"{name}: no gradient with checkpointing");
            Close.Same(other!, grad, $"gradient of {name}", GradientTolerance);
        }
        Assert.Equal(plainGrads.Count, checkpointGrads.Count);
    }

    /// <summary>A distillation step (tiny-sd15 teacher, a pruned student, normalized feature KD): same loss, same student gradients.</summary>
    [Fact]
    public void Checkpointed_distillation_step_gives_the_plain_gradients()
    {
        using var teacher = TinyUNets.Load(TinyUNets.Sd15);
        using var student = TinyUNets.Load(TinyUNets.Sd15, PruneGranularity.Transformer, "down_blocks.0.attentions.1", "mid_block.attentions.0", "up_blocks.0.resnets.1");
        student.train();
        var io = TinyUNets.Io(TinyUNets.Sd15);
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var batch = new TrainingBatch           // owns its tensors: copies of the cached fixture's
        {
            Noisy = io["sample"].clone(),
            Timesteps = io["timestep"].clone(),
            Noise = randn_like(io["sample"]),
            Context = io["encoder_hidden_states"].clone(),
        };

        Dictionary<string, Tensor> Step(bool checkpoint, out double loss)
        {
            var objective = new DistillationObjective(teacher, student, null,
                new DistillationOptions { CheckpointActivations = checkpoint }, new TorchFeatureLoss());
            foreach (var p in student.parameters()) p.grad = null;
            using var terms = objective.Loss(batch);
            terms.Total.backward();
            loss = terms.Total.item<float>();
            return student.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        }

        var plain = Step(checkpoint: false, out double plainLoss);
        var checkpointed = Step(checkpoint: true, out double checkpointLoss);
        Assert.Equal(plainLoss, checkpointLoss, 1e-6 * Math.Abs(plainLoss));
        Assert.True(plainLoss > 0);
        foreach (var (name, grad) in plain)
        {
            Assert.True(grad.abs().sum().item<float>() > 0, $"{name}: zero gradient, the comparison would prove nothing");
            Close.Same(checkpointed[name], grad, $"gradient of {name}", GradientTolerance);
        }
    }

    private static (Tensor Output, Dictionary<string, Tensor> Grads) Gradients(UNet2DCondition model, UNetInputs inputs, UnitMask mask, bool checkpoint)
    {
        foreach (var p in model.parameters()) p.grad = null;
        using var scope = NewDisposeScope();
        using var result = model.Forward(inputs, mask, features: true, checkpointStages: checkpoint);
        var loss = result.Sample.square().mean();
        foreach (var f in result.Features!.Values) loss = loss + f.square().mean();
        loss.backward();
        var grads = model.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
        return (result.Sample.detach().clone().DetachFromDisposeScope(), grads);
    }
}
