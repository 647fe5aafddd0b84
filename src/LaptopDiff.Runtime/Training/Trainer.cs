using System.Diagnostics;
using LaptopDiff.Runtime.Inputs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// The training loop shared by <c>train</c> and <c>distill</c>: AdamW with warmup and constant/cosine
/// learning rate, gradient accumulation and clipping, optional EMA, checkpoints every N steps and at the
/// end (atomic, last K kept), exact resume, a checkpoint on cancellation (SIGINT), and a stop naming the
/// step and term when a loss or the gradient norm is not finite (no checkpoint of that state is written).
/// The same loop trains any objective over any batches (<see cref="TrainingBatch"/> for diffusion, images for a VAE).
/// </summary>
public sealed class Trainer<TBatch> where TBatch : IDeviceBatch<TBatch>
{
    private readonly ITrainingObjective<TBatch> _objective;
    private readonly ITrainingBatches<TBatch> _data;
    private readonly TrainingOptions _options;
    private readonly RunIdentity _identity;
    private readonly string _outputDir;

    public Trainer(ITrainingObjective<TBatch> objective, ITrainingBatches<TBatch> data, TrainingOptions options, RunIdentity identity, string outputDir)
    {
        _objective = objective;
        _data = data;
        _options = options.Validate();
        _identity = identity;
        _outputDir = outputDir;
    }

    /// <summary>The trained parameters by checkpoint name, in module order.</summary>
    public IReadOnlyList<(string Name, Parameter Param)> Parameters() =>
        _objective.Trained.SelectMany(m => m.Module.named_parameters().Where(p => p.parameter.requires_grad)
            .Select(p => ($"{m.Prefix}.{p.name}", p.parameter))).ToList();

    /// <summary>Runs (or, with <paramref name="resume"/>, continues) the run; <paramref name="onStep"/> may throw to simulate a kill.</summary>
    public TrainingOutcome Run(bool resume, CancellationToken cancel, Action<TrainingProgress>? onStep = null, Action<string>? log = null,
        Action<WeightEma?>? onFinished = null)
    {
        var parameters = Parameters();
        var device = parameters.Count > 0 ? parameters[0].Param.device : CPU;
        using var optimizer = new AdamW(parameters, _options.Beta1, _options.Beta2, _options.Epsilon, _options.WeightDecay);
        using var ema = _options.EmaDecay > 0 ? new WeightEma(parameters, _options.EmaDecay) : null;
        var trainingLog = new TrainingLog(_outputDir);

        int start = 0;
        double elapsedBefore = 0;
        string? lastCheckpoint = null;
        if (resume)
        {
            (start, elapsedBefore, lastCheckpoint) = TrainingCheckpoint.Restore(_outputDir, _identity, _objective, optimizer, ema);
            log?.Invoke($"resumed from {lastCheckpoint} (step {start} of {_options.Steps})");
        }
        else if (TrainingCheckpoint.List(_outputDir).Count > 0)
            throw new InputException($"'{Path.Combine(_outputDir, TrainingCheckpoint.Folder)}' already holds checkpoints; resume that run, or choose another output folder",
                nameof(TrainRequest.Resume), nameof(TrainRequest.OutputDir));
        Directory.CreateDirectory(_outputDir);
        trainingLog.Reset(start);

        foreach (var (_, module) in _objective.Trained) module.train();
        var clock = Stopwatch.StartNew();
        IReadOnlyList<KeyValuePair<string, double>> terms = [];
        int step = start;
        while (step < _options.Steps)
        {
            double lr = LearningRateSchedule.At(_options, step);
            double gradNorm;
            using (var scope = NewDisposeScope())
            {
                foreach (var (_, p) in parameters) p.grad = null;
                var sums = new Dictionary<string, double>(StringComparer.Ordinal);
                var order = new List<string>();
                for (int micro = 0; micro < _options.GradientAccumulation; micro++)
                {
                    using var batch = _data.Batch(step, micro).MoveTo(device);             // data is read on the CPU
                    using var loss = _objective.Loss(batch);
                    foreach (var (name, value) in loss.Terms)
                    {
                        if (!double.IsFinite(value)) throw new NonFiniteLossException(step + 1, $"loss term '{name}'", value, lastCheckpoint);
                        if (!sums.ContainsKey(name)) order.Add(name);
                        sums[name] = sums.GetValueOrDefault(name) + value / _options.GradientAccumulation;
                    }
                    (_options.GradientAccumulation == 1 ? loss.Total : loss.Total / _options.GradientAccumulation).backward();
                }
                gradNorm = ClipGradients(parameters);
                if (!double.IsFinite(gradNorm)) throw new NonFiniteLossException(step + 1, "the gradient norm", gradNorm, lastCheckpoint);
                optimizer.Step(lr);
                ema?.Update();
                foreach (var (_, p) in parameters) p.grad = null;
                terms = order.Select(n => KeyValuePair.Create(n, sums[n])).ToList();
            }
            step++;
            double elapsed = elapsedBefore + clock.Elapsed.TotalSeconds;
            trainingLog.Append(step, lr, gradNorm, elapsed, terms);
            double rate = (step - start) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            if (step % _options.CheckpointEvery == 0 || step == _options.Steps)
                lastCheckpoint = Save(step, optimizer, ema, elapsed);
            onStep?.Invoke(new TrainingProgress(step, _options.Steps, lr, gradNorm, terms, rate, TimeSpan.FromSeconds(elapsed)));
            if (cancel.IsCancellationRequested && step < _options.Steps)
            {
                if (step % _options.CheckpointEvery != 0) lastCheckpoint = Save(step, optimizer, ema, elapsed);
                log?.Invoke($"interrupted after step {step}; checkpoint {lastCheckpoint}");
                return new TrainingOutcome(TrainingEnd.Interrupted, step, start, lastCheckpoint, rate, elapsed, terms);
            }
        }
        foreach (var (_, module) in _objective.Trained) module.eval();
        onFinished?.Invoke(ema);
        double seconds = clock.Elapsed.TotalSeconds;
        return new TrainingOutcome(TrainingEnd.Completed, step, start, lastCheckpoint ?? TrainingCheckpoint.List(_outputDir).LastOrDefault().Path,
            (step - start) / Math.Max(1e-9, seconds), elapsedBefore + seconds, terms);
    }

    private string Save(int step, AdamW optimizer, WeightEma? ema, double elapsed)
    {
        TrainingCheckpoint.Save(_outputDir, step, _identity, _data.Position(step, 0), elapsed, _objective, optimizer, ema, _options.KeepCheckpoints);
        return TrainingCheckpoint.PathFor(_outputDir, step);
    }

    /// <summary>The global gradient L2 norm (before clipping), clipping to <see cref="TrainingOptions.GradientClip"/> when set.</summary>
    private double ClipGradients(IReadOnlyList<(string Name, Parameter Param)> parameters)
    {
        using var scope = NewDisposeScope();
        var grads = parameters.Where(p => p.Param.grad is not null).Select(p => p.Param.grad!).ToList();
        if (grads.Count == 0) return 0;
        double norm = stack(grads.Select(g => g.norm()).ToArray()).norm().item<float>();
        if (_options.GradientClip > 0 && double.IsFinite(norm) && norm > _options.GradientClip)
        {
            double scale = _options.GradientClip / (norm + 1e-6);
            using var noGrad = no_grad();
            foreach (var g in grads) g.mul_(scale);
        }
        return norm;
    }
}
