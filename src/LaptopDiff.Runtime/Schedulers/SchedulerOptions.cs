namespace LaptopDiff.Runtime.Schedulers;

/// <summary>What the model predicts (diffusers' <c>prediction_type</c>).</summary>
public enum PredictionType
{
    /// <summary><c>epsilon</c>: the noise.</summary>
    Epsilon,
    /// <summary><c>v_prediction</c>: v = sqrt(acp) eps - sqrt(1 - acp) x_0 (Imagen Video, 2.4).</summary>
    VPrediction,
    /// <summary><c>sample</c>: x_0 itself.</summary>
    Sample,
}

/// <summary>How inference timesteps are spread over [0, T) (diffusers' <c>timestep_spacing</c>; Lin et al. 2024, Table 2).</summary>
public enum TimestepSpacing
{
    /// <summary><c>leading</c>: k * (T // n) + steps_offset for k = n-1 .. 0.</summary>
    Leading,
    /// <summary><c>trailing</c>: round(T - k * T / n) - 1 for k = 0 .. n-1.</summary>
    Trailing,
    /// <summary><c>linspace</c>: n points from T-1 down to 0, both included.</summary>
    Linspace,
}

/// <summary>The sigma after the last Euler step (diffusers' <c>final_sigmas_type</c>).</summary>
public enum FinalSigmas
{
    /// <summary><c>zero</c>: the last step lands on the clean sample.</summary>
    Zero,
    /// <summary><c>sigma_min</c>: the last step stops at the training schedule's smallest sigma.</summary>
    SigmaMin,
}

/// <summary>The settings every scheduler runs on, typed: a scheduler config after <see cref="SchedulerConfig.For"/>.</summary>
public abstract record SchedulerOptions
{
    public required NoiseSchedule Schedule { get; init; }
    public required PredictionType Prediction { get; init; }
    public required TimestepSpacing Spacing { get; init; }
    /// <summary>Added to leading timesteps (SD-1.5 and SDXL ship 1, so 25 steps visit 961 .. 1).</summary>
    public required int StepsOffset { get; init; }
}

/// <summary>DDIMScheduler's settings.</summary>
public sealed record DdimOptions : SchedulerOptions
{
    /// <summary>Clamp the predicted x_0 to [-<see cref="ClipSampleRange"/>, <see cref="ClipSampleRange"/>] (pixel-space models).</summary>
    public required bool ClipSample { get; init; }
    public required double ClipSampleRange { get; init; }
    /// <summary>The step after the last timestep goes to acp = 1 (true) or to acp_0 (false, as SD ships).</summary>
    public required bool SetAlphaToOne { get; init; }
    /// <summary>
    /// Re-derive eps from the clipped x_0 before stepping (diffusers' <c>step(use_clipped_model_output=True)</c>,
    /// GLIDE's choice), so the step stays on the DDIM path through the clipped x_0. Not part of the config:
    /// diffusers' text-to-image pipelines leave it false.
    /// </summary>
    public bool UseClippedModelOutput { get; init; }
}

/// <summary>EulerDiscreteScheduler's settings (linear sigma interpolation, discrete timesteps, no churn).</summary>
public sealed record EulerDiscreteOptions : SchedulerOptions
{
    public required FinalSigmas FinalSigmas { get; init; }
}
