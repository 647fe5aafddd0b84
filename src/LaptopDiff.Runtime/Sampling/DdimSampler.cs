using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Execution;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Sampling;

/// <summary>
/// Deterministic DDIM (Song et al. 2021, eta = 0) over a DDPM training schedule, with classifier-free guidance:
/// eps = eps_u + g (eps_c - eps_u), the conditional and unconditional halves in one batched forward.
/// Timesteps are "leading" (diffusers' default): t_k = k * T / steps for k = steps-1 .. 0, so 25 steps over
/// T = 1000 visit 960, 920, ..., 0. The last step goes to acp = 1 (the clean image), and the predicted x_0 is
/// clipped to [-1, 1] (pixel-space images), as diffusers' DDIMScheduler does with clip_sample / set_alpha_to_one.
/// Starting noise of sample j is drawn from its own seeded stream (seed, j), so it does not depend on the batch.
/// </summary>
public sealed class DdimSampler
{
    /// <summary>Separates the sampler's noise streams from training's and calibration's (see <see cref="RandomPurpose"/>).</summary>
    public const ulong NoisePurpose = 41;

    private readonly double[] _alphasCumprod;

    public DdimSampler(NoiseSchedule schedule, int steps = 25, bool clipSample = true)
    {
        _alphasCumprod = schedule.Validate().AlphasCumprod();
        if (steps < 1 || steps > schedule.TrainSteps)
            throw new ArgumentException($"DDIM steps must be in 1..{schedule.TrainSteps} (the schedule's timesteps), got {steps}");
        Steps = steps;
        ClipSample = clipSample;
        int ratio = schedule.TrainSteps / steps;
        Timesteps = Enumerable.Range(0, steps).Select(k => (long)k * ratio).Reverse().ToArray();
    }

    public int Steps { get; }
    public bool ClipSample { get; }
    /// <summary>The visited training timesteps, descending.</summary>
    public IReadOnlyList<long> Timesteps { get; }

    /// <summary>Standard-normal starting noise [count, channels, size, size]; sample j from stream (seed, firstIndex + j).</summary>
    public static Tensor InitialNoise(long seed, long firstIndex, int count, int channels, int size)
    {
        int per = channels * size * size;
        var data = new float[count * per];
        for (int j = 0; j < count; j++) new SeededRandom(seed, NoisePurpose, firstIndex + j).FillNormal(data.AsSpan(j * per, per));
        return tensor(data).reshape(count, channels, size, size);
    }

    /// <summary>
    /// One DDIM update from x_t (timestep <paramref name="t"/>) to x_prev (timestep <paramref name="prevT"/>, or the
    /// clean image when negative): x0 = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t), x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps.
    /// </summary>
    public Tensor Step(Tensor x, Tensor eps, long t, long prevT)
    {
        using var scope = NewDisposeScope();
        double a = _alphasCumprod[t], aPrev = prevT >= 0 ? _alphasCumprod[prevT] : 1.0;
        var x0 = (x - Math.Sqrt(1 - a) * eps) / Math.Sqrt(a);
        if (ClipSample)
        {
            x0 = x0.clamp(-1, 1);
            // keep eps consistent with the clipped x0, as diffusers does, so x_prev lies on the same DDIM path
            eps = (x - Math.Sqrt(a) * x0) / Math.Sqrt(1 - a);
        }
        return (Math.Sqrt(aPrev) * x0 + Math.Sqrt(1 - aPrev) * eps).MoveToOuterDisposeScope();
    }

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
            long t = Timesteps[k], prev = k + 1 < Timesteps.Count ? Timesteps[k + 1] : -1;
            using var stepScope = NewDisposeScope();
            Tensor eps;
            if (guided)
            {
                var out2 = predict(cat([x, x]), t, both);
                var (epsU, epsC) = (out2[..(int)b], out2[(int)b..]);
                eps = epsU + guidanceScale * (epsC - epsU);
            }
            else eps = predict(x, t, both);
            x = Step(x, eps, t, prev).MoveToOuterDisposeScope();
            progress?.Report(k + 1);
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>A U-Net as a noise predictor, optionally with units masked out (the execution plan's mask).</summary>
    public static NoisePredictor Predictor(UNet2DCondition unet, UnitMask? mask = null) => (x, t, states) =>
    {
        using var timestep = tensor(new[] { t });
        using var output = unet.Forward(new UNetInputs(x, timestep, states), mask);
        return output.Sample.alias();
    };
}
