using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Schedulers;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Sampling;

/// <summary>
/// The digits demo's pixel-space sampler: <see cref="DdimScheduler"/> (eta = 0) over a DDPM training schedule, with
/// classifier-free guidance: eps = eps_u + g (eps_c - eps_u), the conditional and unconditional halves in one
/// batched forward. Leading timesteps without offset, t_k = k * (T // steps) for k = steps-1 .. 0 (25 steps over
/// T = 1000 visit 960, 920, ..., 0); the last step goes to acp = 1 (<c>set_alpha_to_one</c>), and the predicted x_0 is
/// clipped to [-1, 1] with eps re-derived from it (<c>use_clipped_model_output</c>, GLIDE's choice), so x_prev
/// lies on the DDIM path through the clipped x_0.
/// Starting noise of sample j is drawn from its own seeded stream (seed, j), so it does not depend on the batch.
/// </summary>
public sealed class DdimSampler
{
    /// <summary>Separates the sampler's noise streams from training's and calibration's (see <see cref="RandomPurpose"/>).</summary>
    public const ulong NoisePurpose = 41;

    private readonly DdimScheduler _scheduler;

    public DdimSampler(NoiseSchedule schedule, int steps = 25, bool clipSample = true)
    {
        _scheduler = new DdimScheduler(new DdimOptions
        {
            Schedule = schedule.Validate(), Prediction = PredictionType.Epsilon, Spacing = TimestepSpacing.Leading, StepsOffset = 0,
            ClipSample = clipSample, ClipSampleRange = 1.0, SetAlphaToOne = true, UseClippedModelOutput = clipSample,
        });
        _scheduler.SetTimesteps(steps);
        Timesteps = _scheduler.Timesteps.Select(t => (long)t).ToArray();
    }

    /// <summary>The visited training timesteps, descending.</summary>
    public IReadOnlyList<long> Timesteps { get; }

    /// <summary>Standard-normal starting noise [count, channels, size, size] on the CPU; sample j from stream (seed, firstIndex + j).</summary>
    public static Tensor InitialNoise(long seed, long firstIndex, int count, int channels, int size)
    {
        int per = channels * size * size;
        var data = new float[count * per];
        for (int j = 0; j < count; j++) new SeededRandom(seed, NoisePurpose, firstIndex + j).FillNormal(data.AsSpan(j * per, per));
        return tensor(data).reshape(count, channels, size, size);
    }

    /// <summary>One DDIM update of x (at step <paramref name="stepIndex"/>'s timestep) with the (guided) noise prediction <paramref name="eps"/>.</summary>
    public Tensor Step(Tensor x, Tensor eps, int stepIndex) => _scheduler.Step(eps, stepIndex, x);

    /// <summary>
    /// Runs the whole chain from <paramref name="noise"/> [B,C,H,W] with conditional states <paramref name="cond"/> [B,T,D]
    /// and unconditional states <paramref name="uncond"/> ([B,T,D] or [1,T,D]); guidance 1 runs the conditional half only.
    /// Returns x_0 [B,C,H,W]; the caller owns it. No autograd.
    /// </summary>
    public Tensor Sample(NoisePredictor predict, Tensor noise, Tensor cond, Tensor uncond, double guidanceScale, IProgress<int>? progress = null)
    {
        if (cond.shape[0] != noise.shape[0])
            throw new ArgumentException($"{cond.shape[0]} conditioning rows for {noise.shape[0]} samples", nameof(cond));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long b = noise.shape[0];
        bool guided = guidanceScale != 1.0;
        var both = guided ? cat([uncond.expand(b, uncond.shape[1], uncond.shape[2]), cond]) : cond;
        var x = noise.alias();
        for (int k = 0; k < Timesteps.Count; k++)
        {
            long t = Timesteps[k];
            using var stepScope = NewDisposeScope();
            Tensor eps;
            if (guided)
            {
                var out2 = predict(cat([x, x]), t, both);
                var (epsU, epsC) = (out2[..(int)b], out2[(int)b..]);
                eps = epsU + guidanceScale * (epsC - epsU);
            }
            else eps = predict(x, t, both);
            x = Step(x, eps, k).MoveToOuterDisposeScope();
            progress?.Report(k + 1);
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A U-Net as a noise predictor, optionally with units masked out (the execution plan's mask). It runs on the U-Net's device:
    /// inputs from elsewhere are moved there, and so is the prediction.
    /// </summary>
    public static NoisePredictor Predictor(UNet2DCondition unet, UnitMask? mask = null) => (x, t, states) =>
    {
        using var scope = NewDisposeScope();
        var device = unet.Device;
        var timestep = tensor(new[] { t }, device: device);
        using var output = unet.Forward(new UNetInputs(x.to(device), timestep, states.to(device)), mask);
        return output.Sample.alias().MoveToOuterDisposeScope();
    };
}
