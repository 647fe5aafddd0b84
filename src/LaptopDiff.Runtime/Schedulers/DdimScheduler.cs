using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Schedulers;

/// <summary>
/// diffusers' <c>DDIMScheduler</c> with eta = 0 (Song et al. 2021, eq. 12): from x_t and the model output,
/// x_0 = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t) (or from v or x_0 predictions), optionally clipped, then
/// x_prev = sqrt(a_prev) x_0 + sqrt(1 - a_prev) eps. The previous timestep is t - T // n whatever the spacing
/// (diffusers' arithmetic), and a_prev past the end is 1 (<c>set_alpha_to_one</c>) or acp_0.
/// The model input is x itself; the starting noise has sigma 1.
/// </summary>
public sealed class DdimScheduler : DiffusionScheduler
{
    private readonly DdimOptions _options;
    private readonly float _finalAlphaCumprod;
    private long[] _timesteps = [];
    private double[] _timestepValues = [];

    public DdimScheduler(DdimOptions options) : base(options)
    {
        if (options.ClipSample && !(options.ClipSampleRange > 0)) throw new ArgumentException($"clip_sample_range must be positive, got {options.ClipSampleRange}");
        _options = options;
        _finalAlphaCumprod = options.SetAlphaToOne ? 1f : AlphasCumprod[0];
    }

    public override SchedulerKind Kind => SchedulerKind.Ddim;
    public override IReadOnlyList<double> Timesteps => _timestepValues;
    public override ScalarType TimestepType => ScalarType.Int64;
    public override double InitNoiseSigma => 1.0;

    protected override void ComputeTimesteps(int steps)
    {
        int trainSteps = TrainTimesteps;
        long[] timesteps = Options.Spacing switch
        {
            TimestepSpacing.Linspace => NumpySpacing.Linspace(0, trainSteps - 1, steps).Select(t => (long)NumpySpacing.Round(t)).Reverse().ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, steps).Select(k => (long)k * (trainSteps / steps) + Options.StepsOffset).Reverse().ToArray(),
            _ => NumpySpacing.Arange(trainSteps, 0, -(double)trainSteps / steps).Select(t => (long)NumpySpacing.Round(t) - 1).ToArray(),
        };
        if (timesteps.Max() >= trainSteps)
            throw new ArgumentException($"{steps} leading steps with steps_offset {Options.StepsOffset} reach timestep {timesteps.Max()}, past the schedule's last ({trainSteps - 1})");
        _timesteps = timesteps;
        _timestepValues = timesteps.Select(t => (double)t).ToArray();
    }

    /// <summary>DDIM feeds the model x_t unscaled.</summary>
    public override Tensor ScaleModelInput(Tensor sample, int stepIndex)
    {
        CheckStep(stepIndex);
        return sample.alias();
    }

    public override Tensor Step(Tensor modelOutput, int stepIndex, Tensor sample)
    {
        CheckStep(stepIndex);
        long t = _timesteps[stepIndex];
        long prev = t - TrainTimesteps / StepCount;
        // the scalars are 0-dim float32 tensors in diffusers: the same IEEE float operations here
        float alpha = AlphasCumprod[(int)t];
        float alphaPrev = prev >= 0 ? AlphasCumprod[(int)prev] : _finalAlphaCumprod;
        float beta = 1f - alpha;
        float sqrtAlpha = MathF.Sqrt(alpha), sqrtBeta = MathF.Sqrt(beta);

        using var scope = NewDisposeScope();
        Tensor x0, eps;
        switch (Options.Prediction)
        {
            case PredictionType.Epsilon:
                x0 = (sample - modelOutput * sqrtBeta) / sqrtAlpha;
                eps = modelOutput;
                break;
            case PredictionType.Sample:
                x0 = modelOutput;
                eps = (sample - x0 * sqrtAlpha) / sqrtBeta;
                break;
            default:
                x0 = sample * sqrtAlpha - modelOutput * sqrtBeta;
                eps = modelOutput * sqrtAlpha + sample * sqrtBeta;
                break;
        }
        if (_options.ClipSample) x0 = x0.clamp(-_options.ClipSampleRange, _options.ClipSampleRange);
        if (_options.UseClippedModelOutput) eps = (sample - x0 * sqrtAlpha) / sqrtBeta;
        // eta = 0: the noise term std_dev_t is 0, so the direction's coefficient is sqrt(1 - a_prev - 0)
        var direction = eps * MathF.Sqrt(1f - alphaPrev);
        return (x0 * MathF.Sqrt(alphaPrev) + direction).MoveToOuterDisposeScope();
    }
}
