using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Schedulers;

/// <summary>
/// diffusers' <c>EulerDiscreteScheduler</c> (Karras et al. 2022, Algorithm 2 without churn): the sampler's
/// variable is x / sqrt(acp), with noise level sigma_t = sqrt((1 - acp_t) / acp_t). Timesteps are floats
/// (linspace spacing gives fractional ones, e.g. 799.2 of 6 steps); their sigmas interpolate the training
/// sigmas linearly. The model sees x / sqrt(sigma^2 + 1) (= the x_t it was trained on) and the float32
/// timestep; a step predicts x_0, takes the derivative d = (x - x_0) / sigma and moves to the next sigma.
/// </summary>
public sealed class EulerDiscreteScheduler : DiffusionScheduler
{
    private readonly EulerDiscreteOptions _options;
    /// <summary>sigma_t of every training timestep, float32 as torch computes ((1 - acp) / acp) ** 0.5.</summary>
    private readonly float[] _trainSigmas;
    private float[] _sigmas = [];
    private double[] _timesteps = [];

    public EulerDiscreteScheduler(EulerDiscreteOptions options) : base(options)
    {
        _options = options;
        _trainSigmas = AlphasCumprod.Select(a => MathF.Sqrt((1f - a) / a)).ToArray();
    }

    public override SchedulerKind Kind => SchedulerKind.EulerDiscrete;
    public override IReadOnlyList<double> Timesteps => _timesteps;
    public override ScalarType TimestepType => ScalarType.Float32;

    /// <summary>The sigma of each step and, last, the final sigma (0 or the smallest training sigma): Timesteps.Count + 1 values.</summary>
    public IReadOnlyList<float> Sigmas => _sigmas;

    /// <summary>The largest sigma, or sqrt(sigma_max^2 + 1) for leading spacing (diffusers' rule).</summary>
    public override double InitNoiseSigma
    {
        get
        {
            if (StepCount == 0) throw new InvalidOperationException($"{Kind.ClassName()}: call SetTimesteps first; the starting noise depends on the timesteps");
            float max = _sigmas.Max();
            return Options.Spacing == TimestepSpacing.Leading ? MathF.Sqrt(max * max + 1f) : max;
        }
    }

    protected override void ComputeTimesteps(int steps)
    {
        int trainSteps = TrainTimesteps;
        // numpy computes in float64 and stores float32 timesteps
        float[] timesteps = Options.Spacing switch
        {
            TimestepSpacing.Linspace => NumpySpacing.Linspace(0, trainSteps - 1, steps).Select(t => (float)t).Reverse().ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, steps).Select(k => (float)k * (trainSteps / steps) + Options.StepsOffset).Reverse().ToArray(),
            _ => NumpySpacing.Arange(trainSteps, 0, -(double)trainSteps / steps).Select(t => (float)NumpySpacing.Round(t) - 1f).ToArray(),
        };
        var trainSigmas = _trainSigmas.Select(s => (double)s).ToArray();
        var sigmas = timesteps.Select(t => (float)NumpySpacing.InterpOnIndices(t, trainSigmas)).ToList();
        sigmas.Add(_options.FinalSigmas == FinalSigmas.Zero ? 0f : _trainSigmas[0]);
        _sigmas = sigmas.ToArray();
        _timesteps = timesteps.Select(t => (double)t).ToArray();
    }

    /// <summary>x / sqrt(sigma^2 + 1): the sampler's variable back to the model's x_t.</summary>
    public override Tensor ScaleModelInput(Tensor sample, int stepIndex)
    {
        CheckStep(stepIndex);
        float sigma = _sigmas[stepIndex];
        return sample / MathF.Sqrt(sigma * sigma + 1f);
    }

    public override Tensor Step(Tensor modelOutput, int stepIndex, Tensor sample)
    {
        CheckStep(stepIndex);
        // no churn (s_churn = 0): gamma = 0 and sigma_hat = sigma * (0 + 1) = sigma
        float sigma = _sigmas[stepIndex];
        using var scope = NewDisposeScope();
        var x = sample.to_type(ScalarType.Float32);                                    // diffusers upcasts the sample
        var x0 = Options.Prediction switch
        {
            PredictionType.Epsilon => x - modelOutput * sigma,
            // denoised = model_output * c_out + x * c_skip, c_out = -sigma / sqrt(sigma^2 + 1), c_skip = 1 / (sigma^2 + 1)
            PredictionType.VPrediction => modelOutput * (-sigma / MathF.Sqrt(sigma * sigma + 1f)) + x / (sigma * sigma + 1f),
            _ => modelOutput,
        };
        var derivative = (x - x0) / sigma;
        float dt = _sigmas[stepIndex + 1] - sigma;
        return (x + derivative * dt).to_type(modelOutput.dtype).MoveToOuterDisposeScope();
    }
}
