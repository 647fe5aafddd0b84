using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

/// <summary>A bfloat16 frozen teacher: its targets differ from the float32 teacher's by bfloat16 rounding only.</summary>
public sealed class BFloat16TeacherTests
{
    public BFloat16TeacherTests() => set_num_threads(1);

    [Fact]
    public void A_bfloat16_teacher_gives_the_float32_losses_and_gradients_within_bfloat16_rounding()
    {
        using var student = TinyUNets.Load(TinyUNets.Sd15, PruneGranularity.Transformer, "down_blocks.0.attentions.1", "mid_block.attentions.0");
        student.train();
        var io = TinyUNets.Io(TinyUNets.Sd15);
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var batch = new TrainingBatch
        {
            Noisy = io["sample"].clone(), Timesteps = io["timestep"].clone(), Noise = randn_like(io["sample"]), Context = io["encoder_hidden_states"].clone(),
        };

        (Dictionary<string, double> Terms, Dictionary<string, Tensor> Grads) Step(ScalarType dtype)
        {
            using var teacher = TinyUNets.Load(TinyUNets.Sd15);
            var objective = new DistillationObjective(teacher, student, null, new DistillationOptions { TeacherDtype = dtype }, new TorchFeatureLoss());
            Assert.All(teacher.parameters(), p => Assert.Equal(dtype, p.dtype));
            foreach (var p in student.parameters()) p.grad = null;
            using var terms = objective.Loss(batch);
            terms.Total.backward();
            return (terms.Terms.ToDictionary(t => t.Key, t => t.Value), student.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
        }

        var (f32, f32Grads) = Step(ScalarType.Float32);
        var (bf16, bf16Grads) = Step(ScalarType.BFloat16);
        // bfloat16 keeps 8 significant bits (relative rounding 4e-3 per value); a wrong kernel is off by order 1
        foreach (var key in new[] { "loss", "task", "out", "feat" })
            Assert.True(Math.Abs(bf16[key] - f32[key]) <= 3e-2 * Math.Abs(f32[key]), $"{key}: bfloat16 teacher {bf16[key]} vs float32 {f32[key]}");
        foreach (var stage in new[] { "down.0", "down.1", "mid", "up.0", "up.1" })
        {
            var key = $"teacher_norm/{stage}";
            Assert.True(Math.Abs(bf16[key] - f32[key]) <= 1e-2 * f32[key], $"{key}: {bf16[key]} vs {f32[key]}");
        }
        var all = f32Grads.Keys.ToList();
        var rel = cat(all.Select(k => (bf16Grads[k] - f32Grads[k]).flatten()).ToArray()).norm().item<float>()
                  / cat(all.Select(k => f32Grads[k].flatten()).ToArray()).norm().item<float>();
        Assert.True(rel < 5e-2, $"student gradients with a bfloat16 teacher: relative L2 difference {rel:E2}");
        Assert.True(rel > 0, "a bfloat16 teacher cannot give bit-identical targets: the cast did not happen");
    }
}
