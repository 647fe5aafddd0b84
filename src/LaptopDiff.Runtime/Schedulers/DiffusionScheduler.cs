using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Schedulers;

/// <summary>
/// A diffusers scheduler: the training schedule (<see cref="Schedule"/>, <see cref="AddNoise"/> for training and
/// calibration samples) and a sampler over it. <see cref="SetTimesteps"/> chooses the inference timesteps; a
/// sampling loop then runs, for k = 0 .. Timesteps.Count - 1:
/// <c>model(ScaleModelInput(x, k), TimestepTensor(k)) -> Step(output, k, x)</c>, starting from
/// standard-normal noise times <see cref="InitNoiseSigma"/>.
/// State: only the timesteps of the last <see cref="SetTimesteps"/> (diffusers also counts steps internally; here
/// the caller passes the step index, so a step can be repeated or run out of order). Not for concurrent use
/// across a <see cref="SetTimesteps"/> call. Sampling arithmetic is diffusers' float32 arithmetic in its order.
/// </summary>
public abstract class DiffusionScheduler
{
    private readonly float[] _alphasCumprod;

    protected DiffusionScheduler(SchedulerOptions options)
    {
        options.Schedule.Validate();
        if (options.StepsOffset < 0) throw new ArgumentException($"steps_offset must be 0 or more, got {options.StepsOffset}");
        Options = options;
        _alphasCumprod = options.Schedule.AlphasCumprodFloat32();
    }

    public abstract SchedulerKind Kind { get; }
    public SchedulerOptions Options { get; }
    public NoiseSchedule Schedule => Options.Schedule;
    /// <summary>T (diffusers' <c>num_train_timesteps</c>).</summary>
    public int TrainTimesteps => Schedule.TrainSteps;
    /// <summary>alphas_cumprod [T] in float32 as diffusers' scheduler holds it; the steps use these.</summary>
    public IReadOnlyList<float> AlphasCumprod => _alphasCumprod;

    /// <summary>The number of inference steps of the last <see cref="SetTimesteps"/>; 0 before.</summary>
    public int StepCount { get; private set; }

    /// <summary>The inference timesteps, descending, exact (integers for DDIM, float32 values for Euler); empty before <see cref="SetTimesteps"/>.</summary>
    public abstract IReadOnlyList<double> Timesteps { get; }

    /// <summary>The dtype diffusers hands the U-Net its timestep in: int64 (DDIM) or float32 (Euler).</summary>
    public abstract ScalarType TimestepType { get; }

    /// <summary>Standard deviation of the starting noise: the loop starts from randn * InitNoiseSigma.</summary>
    public abstract double InitNoiseSigma { get; }

    /// <summary>Chooses <paramref name="steps"/> inference timesteps; throws <see cref="ArgumentException"/> outside 1..T.</summary>
    public void SetTimesteps(int steps)
    {
        if (steps < 1 || steps > TrainTimesteps)
            throw new ArgumentException($"{Kind.ClassName()}: inference steps must be in 1..{TrainTimesteps} (num_train_timesteps), got {steps}");
        ComputeTimesteps(steps);
        StepCount = steps;
    }

    /// <summary>The timestep of step <paramref name="stepIndex"/> as the U-Net receives it: a scalar of <see cref="TimestepType"/>.</summary>
    public Tensor TimestepTensor(int stepIndex, Device? device = null)
    {
        CheckStep(stepIndex);
        double t = Timesteps[stepIndex];
        return TimestepType == ScalarType.Int64 ? tensor((long)t, device: device) : tensor((float)t, device: device);
    }

    /// <summary>The model input at step <paramref name="stepIndex"/> (a new tensor handle; the caller owns it).</summary>
    public abstract Tensor ScaleModelInput(Tensor sample, int stepIndex);

    /// <summary>x at the next timestep from x (<paramref name="sample"/>) and the model's output at step <paramref name="stepIndex"/>.</summary>
    public abstract Tensor Step(Tensor modelOutput, int stepIndex, Tensor sample);

    /// <summary>Training and calibration noise at training timesteps: <see cref="NoiseSchedule.AddNoise"/>.</summary>
    public Tensor AddNoise(Tensor x0, Tensor noise, Tensor timesteps) => Schedule.AddNoise(x0, noise, timesteps);

    /// <summary>Fills the timesteps (and whatever else the sampler derives) for <paramref name="steps"/> steps, already checked.</summary>
    protected abstract void ComputeTimesteps(int steps);

    protected void CheckStep(int stepIndex)
    {
        if (StepCount == 0) throw new InvalidOperationException($"{Kind.ClassName()}: call SetTimesteps before sampling");
        if (stepIndex < 0 || stepIndex >= Timesteps.Count)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"step index must be in 0..{Timesteps.Count - 1}");
    }
}
