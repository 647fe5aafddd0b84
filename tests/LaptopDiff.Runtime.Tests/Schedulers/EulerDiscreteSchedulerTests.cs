using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Schedulers;
using static LaptopDiff.Runtime.Tests.Schedulers.ClosedForms;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Schedulers;

/// <summary>EulerDiscreteScheduler: float timesteps, interpolated sigmas, steps against closed forms in double.</summary>
public sealed class EulerDiscreteSchedulerTests
{
    private static readonly EulerDiscreteOptions Linspace = SdEuler with { Spacing = TimestepSpacing.Linspace };

    [Fact]
    public void Linspace_gives_float_timesteps_and_interpolated_sigmas()
    {
        var euler = new EulerDiscreteScheduler(Linspace);
        euler.SetTimesteps(3);
        Assert.Equal([999, 499.5, 0], euler.Timesteps);                     // linspace(0, 999, 3) reversed
        var expected = new[] { SdSigmaAt(999), SdSigmaAt(499.5), SdSigmaAt(0), 0 };
        Assert.Equal(4, euler.Sigmas.Count);
        // float32 sigmas of (1 - acp) / acp lose up to 1.3e-5 relative near t = 0 (1 - acp cancels)
        Assert.All(expected.Zip(euler.Sigmas), p => Assert.InRange(Math.Abs(p.Second - p.First), 0, 2e-5 * Math.Max(p.First, 1e-3)));
        // ... and are exactly numpy's interpolation of torch's float32 sigmas
        float S(int t) => MathF.Sqrt((1f - euler.AlphasCumprod[t]) / euler.AlphasCumprod[t]);
        Assert.Equal((float)(S(499) + 0.5 * ((double)S(500) - S(499))), euler.Sigmas[1]);
        Assert.Equal(S(999), euler.Sigmas[0]);
        Assert.Equal(euler.Sigmas[0], euler.InitNoiseSigma);                // linspace: the largest sigma itself
    }

    [Fact]
    public void The_unet_gets_the_fractional_timestep_as_float32()
    {
        var euler = new EulerDiscreteScheduler(Linspace);
        euler.SetTimesteps(6);                                              // k * 999 / 5: 999, 799.2, 599.4, 399.6, 199.8, 0
        Assert.Equal(new[] { 999f, 799.2f, 599.4f, 399.6f, 199.8f, 0f }.Select(t => (double)t), euler.Timesteps);
        using var t = euler.TimestepTensor(1);
        Assert.Equal((ScalarType.Float32, 0L, 799.2f), (t.dtype, t.dim(), t.item<float>()));

        // the U-Net's time projection takes it as diffusers' does: float32 t times float32 frequencies, [cos, sin]
        using var projection = new Timesteps(8, flipSinToCos: true, freqShift: 0);
        using var embedded = projection.forward(t.reshape(1));
        static double[] Expected(double time)
        {
            var angles = Enumerable.Range(0, 4).Select(i => time * Math.Exp(-Math.Log(10000) * i / 4)).ToArray();
            return angles.Select(Math.Cos).Concat(angles.Select(Math.Sin)).ToArray();
        }
        Assert.InRange(MaxRelativeError(embedded, Expected(799.2f)), 0, 1e-4);
        Assert.True(MaxRelativeError(embedded, Expected(799)) > 0.1);      // rounding the timestep would change the model's input
    }

    [Fact]
    public void Leading_and_trailing_give_integer_timesteps_and_leading_widens_the_starting_noise()
    {
        var leading = new EulerDiscreteScheduler(SdEuler);
        leading.SetTimesteps(6);
        Assert.Equal([831, 665, 499, 333, 167, 1], leading.Timesteps);
        double sigmaMax = Sigma(SdAlphasCumprod[831]);
        Assert.InRange(Math.Abs(leading.InitNoiseSigma / Math.Sqrt(sigmaMax * sigmaMax + 1) - 1), 0, 1e-6);
        var trailing = new EulerDiscreteScheduler(SdEuler with { Spacing = TimestepSpacing.Trailing });
        trailing.SetTimesteps(6);
        Assert.Equal([999, 832, 666, 499, 332, 166], trailing.Timesteps);
        Assert.InRange(Math.Abs(trailing.InitNoiseSigma / Sigma(SdAlphasCumprod[999]) - 1), 0, 1e-6);
    }

    [Fact]
    public void The_model_input_is_x_over_sqrt_sigma_squared_plus_1()
    {
        var euler = new EulerDiscreteScheduler(SdEuler);
        euler.SetTimesteps(6);
        var (x, xs) = Random(1, 2, 4, 2, 2);
        using var scaled = euler.ScaleModelInput(x, 2);                     // t = 499
        double s = Sigma(SdAlphasCumprod[499]);
        Assert.InRange(MaxRelativeError(scaled, xs.Select(v => v / Math.Sqrt(s * s + 1)).ToArray()), 0, 1e-6);
    }

    [Fact]
    public void An_epsilon_step_moves_along_the_derivative_to_the_next_sigma()
    {
        var euler = new EulerDiscreteScheduler(SdEuler);
        euler.SetTimesteps(6);
        var (x, xs) = Random(2, 2, 4, 3, 3);
        var (eps, es) = Random(3, 2, 4, 3, 3);
        double s = Sigma(SdAlphasCumprod[499]), next = Sigma(SdAlphasCumprod[333]);
        // x0 = x - s eps, d = (x - x0) / s, x' = x + d (next - s)
        var expected = xs.Zip(es, (xv, ev) => xv + (xv - (xv - s * ev)) / s * (next - s)).ToArray();
        using var stepped = euler.Step(eps, 2, x);
        Assert.InRange(MaxRelativeError(stepped, expected), 0, 1e-5);
        // the last step goes to sigma 0: the predicted x0
        using var last = euler.Step(eps, 5, x);
        double s1 = Sigma(SdAlphasCumprod[1]);
        Assert.InRange(MaxRelativeError(last, xs.Zip(es, (xv, ev) => xv - s1 * ev).ToArray()), 0, 1e-5);
    }

    [Fact]
    public void A_v_prediction_step_uses_diffusers_c_out_and_c_skip()
    {
        var euler = new EulerDiscreteScheduler(SdEuler with { Prediction = PredictionType.VPrediction });
        euler.SetTimesteps(6);
        var (x, xs) = Random(4, 1, 4, 2, 2);
        var (v, vs) = Random(5, 1, 4, 2, 2);
        double s = Sigma(SdAlphasCumprod[665]), next = Sigma(SdAlphasCumprod[499]);
        var expected = xs.Zip(vs, (xv, vv) =>
        {
            double x0 = vv * (-s / Math.Sqrt(s * s + 1)) + xv / (s * s + 1);
            return xv + (xv - x0) / s * (next - s);
        }).ToArray();
        using var stepped = euler.Step(v, 1, x);
        Assert.InRange(MaxRelativeError(stepped, expected), 0, 1e-5);
    }

    [Fact]
    public void Sigma_min_as_final_sigma_stops_at_the_smallest_training_sigma()
    {
        var euler = new EulerDiscreteScheduler(SdEuler with { FinalSigmas = FinalSigmas.SigmaMin });
        euler.SetTimesteps(6);
        Assert.InRange(Math.Abs(euler.Sigmas[^1] / Sigma(SdAlphasCumprod[0]) - 1), 0, 2e-5);
    }

    [Fact]
    public void Add_noise_is_the_training_forward_process_and_steps_need_timesteps()
    {
        var euler = new EulerDiscreteScheduler(SdEuler);
        var (x0, x0s) = Random(6, 1, 1, 2, 2);
        var (noise, ns) = Random(7, 1, 1, 2, 2);
        using var noisy = euler.AddNoise(x0, noise, tensor(new[] { 250L }));
        double a = SdAlphasCumprod[250];
        Assert.InRange(MaxRelativeError(noisy, x0s.Zip(ns, (xv, nv) => Math.Sqrt(a) * xv + Math.Sqrt(1 - a) * nv).ToArray()), 0, 1e-6);
        Assert.Throws<InvalidOperationException>(() => euler.InitNoiseSigma);
        Assert.Throws<InvalidOperationException>(() => euler.ScaleModelInput(x0, 0));
        Assert.Throws<ArgumentException>(() => euler.SetTimesteps(0));
    }
}
