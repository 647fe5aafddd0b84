using LaptopDiff.Runtime.Benchmarks;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>
/// Device placement, checked on libtorch's <c>meta</c> device (shapes and dtypes, no data; every op that has a meta
/// kernel runs). libtorch refuses to mix a CPU tensor that is not a scalar with meta tensors in one op, so a step that
/// runs to the end created nothing of its own on the CPU that met the model's tensors; beyond that, every tensor left
/// in the step's dispose scope (outputs, features, losses, gradients) and every optimizer state is asserted on meta.
/// Not on meta: reading values (<c>item</c>, <c>cpu()</c>; logs read NaN through <c>HostScalars</c>) and the fused
/// SIMD/ILGPU feature loss (host memory only; the torch feature loss runs instead).
/// </summary>
public sealed class MetaDeviceTests
{
    public MetaDeviceTests() => set_num_threads(1);

    [Theory]
    [InlineData(TinyUNets.Sd15, false)]
    [InlineData(TinyUNets.Sdxl, false)]
    [InlineData(TinyUNets.Sdxl, true)]
    public void Forward_and_backward_run_on_meta_and_create_nothing_elsewhere(string fixture, bool checkpoint)
    {
        using var model = OnMeta(TinyUNets.Layout(fixture, PruneGranularity.TransformerBlock, "up_blocks.1.resnets.1"));
        model.train();
        using var inputScope = NewDisposeScope();                      // the test's inputs, made on the CPU and moved
        var cpu = UNetBenchmark.RandomInputs(model.Layout, 2, 16, 16, 7);
        var inputs = new UNetInputs(cpu.Sample.to(META), cpu.Timestep.to(META), cpu.EncoderHiddenStates.to(META),
            cpu.TextEmbeds?.to(META), cpu.TimeIds?.to(META));
        using var scope = NewDisposeScope();                           // the step's

        var output = model.Forward(inputs, features: true, checkpointStages: checkpoint);
        Assert.Equal(new long[] { 2, 4, 16, 16 }, output.Sample.shape);
        Assert.Equal(model.Layout.FeatureStages, output.Features!.Keys);
        var loss = output.Sample.square().mean();
        foreach (var f in output.Features.Values) loss = loss + f.square().mean();
        loss.backward();

        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.device_type == DeviceType.META, $"gradient of {name} is on {p.grad.device}");
            Assert.Equal(p.shape, p.grad.shape);
        }
        AssertAllOnMeta(scope);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_distillation_step_runs_on_meta(bool checkpoint)
    {
        using var teacher = OnMeta(TinyUNets.Layout(TinyUNets.Sd15));
        using var student = OnMeta(TinyUNets.Layout(TinyUNets.Sd15, PruneGranularity.Transformer, "down_blocks.0.attentions.1", "mid_block.attentions.0"));
        var parameters = student.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        var objective = new DistillationObjective(teacher, student, null, new DistillationOptions { CheckpointActivations = checkpoint }, new TorchFeatureLoss());
        using var optimizer = new AdamW(parameters, 0.9, 0.999, 1e-8, 0.01);
        student.train();
        using var cpuBatch = new TrainingBatch
        {
            Noisy = randn(2, 4, 16, 16), Timesteps = randint(0, 1000, [2], dtype: ScalarType.Int64),
            Noise = randn(2, 4, 16, 16), Context = randn(2, 7, 32),
        };
        using var batch = cpuBatch.MoveTo(META);                       // the trainer's move of data read on the CPU
        using var scope = NewDisposeScope();                           // the step's

        using var terms = objective.Loss(batch);
        terms.Total.backward();
        optimizer.Step(1e-4);

        Assert.Equal(DeviceType.META, terms.Total.device_type);
        Assert.All(terms.Terms, t => Assert.True(double.IsNaN(t.Value), $"{t.Key}: meta holds no values, got {t.Value}"));
        Assert.Contains(terms.Terms, t => t.Key == "feat/down.0");
        foreach (var (name, p) in parameters)
            Assert.True(p.device_type == DeviceType.META && p.grad!.device_type == DeviceType.META, $"{name} or its gradient left meta");
        Assert.All(optimizer.State(), s => Assert.Equal(DeviceType.META, s.Value.device_type));
        AssertAllOnMeta(scope);
    }

    private static UNet2DCondition OnMeta(UNetLayout layout)
    {
        var model = new UNet2DCondition(layout).MoveTo(META);
        Assert.Equal(DeviceType.META, model.Device.type);
        return model;
    }

    private static void AssertAllOnMeta(DisposeScope scope)
    {
        var tensors = scope.DisposablesView.OfType<Tensor>().Where(t => !t.IsInvalid).ToList();
        Assert.NotEmpty(tensors);
        var elsewhere = tensors.Where(t => t.device_type != DeviceType.META).Select(t => $"{t.device} [{string.Join(",", t.shape)}] {t.dtype}").ToList();
        Assert.True(elsewhere.Count == 0, $"{elsewhere.Count} of {tensors.Count} tensors of the step are not on meta: {string.Join("; ", elsewhere.Take(5))}");
    }
}
