using LaptopDiff.Runtime.Benchmarks;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Runtime.Sampling;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Tests.Cli;
using LaptopDiff.Runtime.Tests.Pruning;
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
/// Not on meta: reading values (<c>item</c>, <c>cpu()</c>; logs read NaN through <c>HostScalars</c>), so neither the losses the
/// sweep, additivity and compare read back nor results brought to the CPU for writing (those paths are covered up to the
/// read: a reducer that only checks placement stands in for the sweep's), the fused SIMD/ILGPU kernels (host memory only), and
/// what libtorch has no meta kernel for: embedding lookups (the text encoders, the class conditioner) and <c>std</c> (guidance rescale).
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

    [Theory]
    [InlineData(SweepStrategy.Naive, 1)]
    [InlineData(SweepStrategy.PrefixCached, 1)]
    [InlineData(SweepStrategy.PrefixCached, 2)]
    public void The_sweep_runs_every_forward_where_the_model_lies(SweepStrategy strategy, int ablationsPerForward)
    {
        using var temp = new TempFolder();
        var layout = SweepTestKit.Layout(SweepTestKit.Sd15);
        using var set = CalibrationSet.Load(SweepTestKit.WriteCalibration(temp.Path, SweepTestKit.Sd15, samples: 3), layout);   // read on the CPU
        using var model = OnMeta(layout);
        model.eval();
        var options = new SweepOptions { BatchSize = 2, Strategy = strategy, AblationsPerForward = ablationsPerForward };
        var identity = new SweepIdentity { SpecName = layout.Spec.Name, Samples = set.Count, Noising = options.Noising, Shard = options.Shard };
        var record = new SweepRecord(identity, layout.PrunableUnits.Select(u => new SweepUnit(u.Id, u.ParamCount)).ToList());
        var reducer = new PlacementReducer();

        AblationSweep.Run(model, set, record, options, new SweepHooks { Reducer = reducer });

        int units = layout.PrunableUnits.Count(), batches = 2;                       // 3 samples in batches of 2
        Assert.Equal(batches * ((units + ablationsPerForward - 1) / ablationsPerForward), reducer.Outputs.Count);
        Assert.All(reducer.Outputs, o => Assert.True(o.Teacher == DeviceType.META && o.Ablated == DeviceType.META, $"outputs on {o.Teacher} and {o.Ablated}"));
        Assert.Equal(units, record.CompleteUnits);
    }

    [Theory]
    [InlineData(TinyUNets.Sd15, SchedulerKind.Ddim)]
    [InlineData(TinyUNets.Sdxl, SchedulerKind.EulerDiscrete)]
    public void Sampling_loop_steps_run_on_meta(string fixture, SchedulerKind kind)
    {
        using var model = OnMeta(TinyUNets.Layout(fixture));
        model.eval();
        var spec = model.Layout.Spec;
        var add = spec.AdditionEmbedding;
        DiffusionScheduler scheduler = kind == SchedulerKind.Ddim
            ? new DdimScheduler(new DdimOptions
            {
                Schedule = NoiseSchedule.StableDiffusion, Prediction = PredictionType.Epsilon, Spacing = TimestepSpacing.Leading, StepsOffset = 1,
                ClipSample = false, ClipSampleRange = 1, SetAlphaToOne = false,
            })
            : new EulerDiscreteScheduler(new EulerDiscreteOptions
            {
                Schedule = NoiseSchedule.StableDiffusion, Prediction = PredictionType.Epsilon, Spacing = TimestepSpacing.Leading, StepsOffset = 1,
                FinalSigmas = FinalSigmas.Zero,
            });
        scheduler.SetTimesteps(3);
        using var scope = NewDisposeScope();
        var embeds = randn(2, 7, spec.CrossAttentionDim, device: META);                // [N,T,D], what the text encoders give on meta
        var pooled = add is null ? null : randn(2, add.TextEmbedDim, device: META);
        using var conditional = new PromptEmbeddings(embeds, pooled, []);
        using var unconditional = new PromptEmbeddings(zeros_like(embeds), pooled is null ? null : zeros_like(pooled), []);
        using var conditioning = GuidedConditioning.Create(conditional, unconditional, add is null ? null : Enumerable.Repeat(64f, add.TimeIdCount).ToArray());
        var noise = InitialNoise.Draw(7, 2, spec.InChannels, 8, 8, META);                // drawn on the CPU generator, moved
        var tapped = new List<DeviceType>();
        var unet = new PlacementRecorder(model);

        var latents = DenoisingLoop.Run(unet, scheduler, noise, conditioning, new Guidance(5),
            tap: new LoopTap(2, (_, x, eps) => tapped.AddRange([x.device_type, eps.device_type])));

        Assert.Equal(new long[] { 2, spec.OutChannels, 8, 8 }, latents.shape);
        Assert.Equal(6, tapped.Count);
        Assert.All(tapped, d => Assert.Equal(DeviceType.META, d));
        // libtorch lets a CPU timestep of shape [1] or [] meet meta weights, so the U-Net's inputs are checked one by one
        Assert.Equal(3 * (add is null ? 3 : 5), unet.Inputs.Count);
        Assert.All(unet.Inputs, i => Assert.True(i.Device == DeviceType.META, $"{i.Name} is on {i.Device}"));
        if (conditioning.TimeIds is { } ids) Assert.Equal(DeviceType.META, ids.device_type);
        AssertAllOnMeta(scope);
    }

    [Fact]
    public void The_digits_sampler_steps_on_meta()
    {
        using var model = OnMeta(TinyUNets.Layout(TinyUNets.Sd15));
        model.eval();
        int dim = model.Layout.Spec.CrossAttentionDim;
        using var cpuNoise = DdimSampler.InitialNoise(0, 0, 2, model.Layout.Spec.InChannels, 8);   // drawn on the CPU, moved below
        var sampler = new DdimSampler(NoiseSchedule.StableDiffusion, steps: 2);
        using var scope = NewDisposeScope();
        var cond = randn(2, 7, dim, device: META);                                       // a conditioner's states (its embedding lookup has no meta kernel)
        var uncond = randn(1, 7, dim, device: META);

        var samples = sampler.Sample(DdimSampler.Predictor(model), cpuNoise.to(META), cond, uncond, guidanceScale: 3);

        Assert.Equal(cpuNoise.shape, samples.shape);
        AssertAllOnMeta(scope);
    }

    [Fact]
    public void The_contrastive_caption_loss_and_an_ema_update_run_on_meta()   // the loss's backward (where) has no meta kernel
    {
        using var contrast = new CaptionLatentContrast(16, [4, 8, 8]);
        Backends.ModuleDevice.MoveTo(contrast, META);
        var parameters = contrast.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        using var ema = new WeightEma(parameters, 0.9);
        using var scope = NewDisposeScope();

        var loss = contrast.forward(randn(3, 7, 16, device: META), randn(3, 4, 8, 8, device: META));
        ema.Update();                                                                   // lerp_ with a host scalar weight: allowed beside device tensors

        Assert.Empty(loss.shape);
        Assert.All(ema.State(), s => Assert.Equal(DeviceType.META, s.Value.device_type));
        AssertAllOnMeta(scope);
    }

    /// <summary>Runs the U-Net and records where each of its inputs lies.</summary>
    private sealed class PlacementRecorder(UNet2DCondition model) : IUNetRunner
    {
        public List<(string Name, DeviceType Device)> Inputs { get; } = [];

        public UNetOutput Forward(UNetInputs inputs)
        {
            Inputs.Add(("sample", inputs.Sample.device_type));
            Inputs.Add(("timestep", inputs.Timestep.device_type));
            Inputs.Add(("encoder_hidden_states", inputs.EncoderHiddenStates.device_type));
            if (inputs.TextEmbeds is { } textEmbeds) Inputs.Add(("text_embeds", textEmbeds.device_type));
            if (inputs.TimeIds is { } timeIds) Inputs.Add(("time_ids", timeIds.device_type));
            return model.Forward(inputs);
        }
    }

    /// <summary>Stands in for the sweep's reductions (which read values): records where the outputs lie, reports zero losses.</summary>
    private sealed class PlacementReducer : IAblationLossReducer
    {
        public List<(DeviceType Teacher, DeviceType Ablated)> Outputs { get; } = [];
        public string Name => "placement check";

        public void SquaredErrorSums(Tensor teacher, Tensor ablated, Span<double> sums)
        {
            Outputs.Add((teacher.device_type, ablated.device_type));
            sums.Clear();
        }
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
