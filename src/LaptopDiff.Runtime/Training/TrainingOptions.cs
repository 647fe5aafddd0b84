using System.Globalization;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Runtime.Training;

/// <summary>How the learning rate moves after the linear warmup.</summary>
public enum LearningRateDecay
{
    Constant,
    /// <summary>Half cosine from the peak to 0 at the last step.</summary>
    Cosine,
}

/// <summary>
/// Everything that shapes a training trajectory (all of it is part of the run's identity, so a
/// checkpoint resumes only under the same options). Steps are optimizer steps; a step sees
/// <see cref="BatchSize"/> x <see cref="GradientAccumulation"/> samples.
/// </summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 1000;
    /// <summary>Samples per forward (micro-batch).</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Micro-batches whose gradients are summed (averaged) into one optimizer step.</summary>
    public int GradientAccumulation { get; init; } = 1;
    public double LearningRate { get; init; } = 1e-4;
    public int WarmupSteps { get; init; }
    public LearningRateDecay Decay { get; init; } = LearningRateDecay.Constant;
    public double WeightDecay { get; init; } = 1e-2;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Max global gradient L2 norm; 0 = no clipping (the norm is still logged).</summary>
    public double GradientClip { get; init; } = 1.0;
    /// <summary>EMA decay of the trained weights; 0 = no EMA.</summary>
    public double EmaDecay { get; init; }
    /// <summary>Probability that a sample's conditioning is replaced by the null condition (classifier-free guidance).</summary>
    public double ConditioningDropout { get; init; } = 0.1;
    public long Seed { get; init; }
    public NoiseSchedule Schedule { get; init; } = NoiseSchedule.StableDiffusion;
    /// <summary>A checkpoint every this many steps (and at the end).</summary>
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Checkpoints kept; older ones are deleted after a new one is written.</summary>
    public int KeepCheckpoints { get; init; } = 3;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public TrainingOptions Validate()
    {
        Require(Steps >= 1, $"steps must be at least 1, got {Steps}");
        Require(BatchSize >= 1, $"batch size must be at least 1, got {BatchSize}");
        Require(GradientAccumulation >= 1, $"gradient accumulation must be at least 1, got {GradientAccumulation}");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"learning rate must be positive, got {Num(LearningRate)}");
        Require(WarmupSteps >= 0, $"warmup steps must be >= 0, got {WarmupSteps}");
        Require(WeightDecay >= 0, $"weight decay must be >= 0, got {Num(WeightDecay)}");
        Require(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, $"Adam betas must be in [0, 1), got {Num(Beta1)}, {Num(Beta2)}");
        Require(Epsilon > 0, $"Adam epsilon must be positive, got {Num(Epsilon)}");
        Require(GradientClip >= 0, $"gradient clip must be >= 0, got {Num(GradientClip)}");
        Require(EmaDecay is >= 0 and < 1, $"EMA decay must be in [0, 1), got {Num(EmaDecay)}");
        Require(ConditioningDropout is >= 0 and <= 1, $"conditioning dropout must be in [0, 1], got {Num(ConditioningDropout)}");
        Require(CheckpointEvery >= 1, $"checkpoint interval must be at least 1 step, got {CheckpointEvery}");
        Require(KeepCheckpoints >= 1, $"at least one checkpoint must be kept, got {KeepCheckpoints}");
        Schedule.Validate();
        return this;
    }

    /// <summary>The options that define the trajectory, as strings for the run identity.</summary>
    public IEnumerable<KeyValuePair<string, string>> IdentityFields() => new Dictionary<string, string>
    {
        ["steps"] = Int(Steps), ["batch"] = Int(BatchSize), ["grad_accum"] = Int(GradientAccumulation),
        ["lr"] = Num(LearningRate), ["warmup"] = Int(WarmupSteps), ["decay"] = Decay.ToString().ToLowerInvariant(),
        ["weight_decay"] = Num(WeightDecay), ["betas"] = $"{Num(Beta1)},{Num(Beta2)}", ["adam_eps"] = Num(Epsilon),
        ["grad_clip"] = Num(GradientClip), ["ema"] = Num(EmaDecay), ["cond_dropout"] = Num(ConditioningDropout),
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture), ["schedule"] = Schedule.ToString(),
    };

    private static void Require(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message);
    }

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
