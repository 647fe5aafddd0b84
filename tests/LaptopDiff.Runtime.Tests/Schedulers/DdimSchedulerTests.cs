using LaptopDiff.Runtime.Schedulers;
using static LaptopDiff.Runtime.Tests.Schedulers.ClosedForms;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Schedulers;

/// <summary>DDIMScheduler: timesteps from diffusers' spacing formulas, steps against closed forms in double.</summary>
public sealed class DdimSchedulerTests
{
    [Fact]
    public void Sd15_twenty_five_steps_visit_961_down_to_1()
    {
        var config = SchedulerConfig.Load(TestPaths.SdPipeline("tiny-sd15-pipe/scheduler/scheduler_config.json"));
        var ddim = config.For(SchedulerKind.Ddim).CreateScheduler();
        ddim.SetTimesteps(25);
        Assert.Equal(Enumerable.Range(0, 25).Select(k => 961.0 - 40 * k), ddim.Timesteps);
    }

    [Fact]
    public void Spacings_follow_diffusers_formulas()
    {
        // leading: k * (1000 // 6) + 1 = 830 + 1, ..., 0 + 1
        Assert.Equal([831, 665, 499, 333, 167, 1], TimestepsOf(SdDdim, 6));
        // trailing: round(arange(1000, 0, -1000/6)) - 1 = round(1000, 833.3, 666.7, 500, 333.3, 166.7) - 1
        Assert.Equal([999, 832, 666, 499, 332, 166], TimestepsOf(SdDdim with { Spacing = TimestepSpacing.Trailing }, 6));
        Assert.Equal(Enumerable.Range(0, 25).Select(k => 999.0 - 40 * k), TimestepsOf(SdDdim with { Spacing = TimestepSpacing.Trailing }, 25));
        // linspace: round(0, 199.8, 399.6, 599.4, 799.2, 999) reversed (halves to even)
        Assert.Equal([999, 799, 599, 400, 200, 0], TimestepsOf(SdDdim with { Spacing = TimestepSpacing.Linspace }, 6));
        Assert.Equal(Enumerable.Range(0, 25).Reverse().Select(k => Math.Round(k * 999.0 / 24, MidpointRounding.ToEven)),
            TimestepsOf(SdDdim with { Spacing = TimestepSpacing.Linspace }, 25));
        Assert.Equal([0], TimestepsOf(SdDdim with { Spacing = TimestepSpacing.Linspace }, 1));
    }

    [Fact]
    public void An_epsilon_step_is_the_ddim_update_and_the_last_goes_to_acp_0()
    {
        var ddim = new DdimScheduler(SdDdim);
        ddim.SetTimesteps(6);                                               // 831, 665, 499, 333, 167, 1
        var (x, xs) = Random(1, 2, 4, 3, 3);
        var (eps, es) = Random(2, 2, 4, 3, 3);
        double[] Expected(double a, double aPrev) => xs.Zip(es, (xv, ev) =>
            Math.Sqrt(aPrev) * (xv - Math.Sqrt(1 - a) * ev) / Math.Sqrt(a) + Math.Sqrt(1 - aPrev) * ev).ToArray();
        var acp = SdAlphasCumprod;
        using var next = ddim.Step(eps, 1, x);                              // 665 -> 665 - 1000 // 6 = 499
        Assert.InRange(MaxRelativeError(next, Expected(acp[665], acp[499])), 0, 1e-5);
        using var last = ddim.Step(eps, 5, x);                              // 1 -> past the end: acp_0 (set_alpha_to_one false)
        Assert.InRange(MaxRelativeError(last, Expected(acp[1], acp[0])), 0, 1e-5);
        var toOne = new DdimScheduler(SdDdim with { SetAlphaToOne = true });
        toOne.SetTimesteps(6);
        using var clean = toOne.Step(eps, 5, x);                            // acp = 1: the predicted x_0 itself
        Assert.InRange(MaxRelativeError(clean, xs.Zip(es, (xv, ev) => (xv - Math.Sqrt(1 - acp[1]) * ev) / Math.Sqrt(acp[1])).ToArray()), 0, 1e-5);
    }

    [Fact]
    public void A_v_prediction_step_recovers_x0_and_eps_from_v()
    {
        var ddim = new DdimScheduler(SdDdim with { Prediction = PredictionType.VPrediction });
        ddim.SetTimesteps(6);
        var (x, xs) = Random(3, 1, 4, 2, 2);
        var (v, vs) = Random(4, 1, 4, 2, 2);
        double a = SdAlphasCumprod[333], aPrev = SdAlphasCumprod[167];
        var expected = xs.Zip(vs, (xv, vv) =>
        {
            double x0 = Math.Sqrt(a) * xv - Math.Sqrt(1 - a) * vv, e = Math.Sqrt(a) * vv + Math.Sqrt(1 - a) * xv;
            return Math.Sqrt(aPrev) * x0 + Math.Sqrt(1 - aPrev) * e;
        }).ToArray();
        using var next = ddim.Step(v, 3, x);                                // 333 -> 167
        Assert.InRange(MaxRelativeError(next, expected), 0, 1e-5);
    }

    [Fact]
    public void A_sample_prediction_is_clipped_to_the_range_before_stepping()
    {
        var ddim = new DdimScheduler(SdDdim with { Prediction = PredictionType.Sample, ClipSample = true, ClipSampleRange = 0.5 });
        ddim.SetTimesteps(6);
        var (x, xs) = Random(5, 1, 1, 4, 4);
        var (x0, x0s) = Random(6, 1, 1, 4, 4);
        double a = SdAlphasCumprod[499], aPrev = SdAlphasCumprod[333];
        var expected = xs.Zip(x0s, (xv, pv) =>
        {
            double e = (xv - Math.Sqrt(a) * pv) / Math.Sqrt(1 - a);           // eps from the unclipped prediction
            return Math.Sqrt(aPrev) * Math.Clamp(pv, -0.5, 0.5) + Math.Sqrt(1 - aPrev) * e;
        }).ToArray();
        using var next = ddim.Step(x0, 2, x);
        Assert.InRange(MaxRelativeError(next, expected), 0, 1e-5);
    }

    [Fact]
    public void The_model_sees_x_itself_at_an_int64_timestep_and_noise_starts_at_sigma_1()
    {
        var ddim = new DdimScheduler(SdDdim);
        ddim.SetTimesteps(6);
        Assert.Equal(1.0, ddim.InitNoiseSigma);
        using var x = randn(1, 4, 2, 2);
        using var scaled = ddim.ScaleModelInput(x, 0);
        Assert.True(scaled.eq(x).all().item<bool>());
        using var t = ddim.TimestepTensor(2);
        Assert.Equal((ScalarType.Int64, 0L, 499L), (t.dtype, t.dim(), t.item<long>()));
    }

    [Fact]
    public void Add_noise_follows_the_forward_process_per_sample()
    {
        var ddim = new DdimScheduler(SdDdim);
        var (x0, x0s) = Random(7, 3, 2, 2, 2);
        var (noise, ns) = Random(8, 3, 2, 2, 2);
        long[] t = [0, 500, 999];
        using var noisy = ddim.AddNoise(x0, noise, tensor(t));
        var expected = x0s.Select((v, i) =>
        {
            double a = SdAlphasCumprod[t[i / 8]];
            return Math.Sqrt(a) * v + Math.Sqrt(1 - a) * ns[i];
        }).ToArray();
        Assert.InRange(MaxRelativeError(noisy, expected), 0, 1e-6);
        var e = Assert.Throws<ArgumentException>(() => ddim.AddNoise(x0, noise, tensor(new long[] { 0, 1, 1000 })));
        Assert.Contains("1000", e.Message);
    }

    [Fact]
    public void Alphas_cumprod_are_diffusers_float32_values()
    {
        var ddim = new DdimScheduler(SdDdim);
        float start = (float)Math.Pow(0.00085, 0.5);                        // torch.linspace starts exactly at float(start)
        Assert.Equal(1f - start * start, ddim.AlphasCumprod[0]);
        Assert.All(Enumerable.Range(0, 1000), t => Assert.InRange(Math.Abs(ddim.AlphasCumprod[t] / SdAlphasCumprod[t] - 1), 0, 1e-6));
    }

    [Fact]
    public void Invalid_step_counts_and_indices_are_refused()
    {
        var ddim = new DdimScheduler(SdDdim);
        Assert.Throws<InvalidOperationException>(() => ddim.Step(zeros(1), 0, zeros(1)));
        var zero = Assert.Throws<ArgumentException>(() => ddim.SetTimesteps(0));
        Assert.Contains("got 0", zero.Message);
        var many = Assert.Throws<ArgumentException>(() => ddim.SetTimesteps(1001));
        Assert.Contains("1..1000", many.Message);
        Assert.Contains("1001", many.Message);
        // leading with offset 1 over all 1000 timesteps would reach 1000
        Assert.Contains("1000", Assert.Throws<ArgumentException>(() => ddim.SetTimesteps(1000)).Message);
        ddim.SetTimesteps(6);
        Assert.Throws<ArgumentOutOfRangeException>(() => ddim.Step(zeros(1), 6, zeros(1)));
    }

    private static double[] TimestepsOf(DdimOptions options, int steps)
    {
        var ddim = new DdimScheduler(options);
        ddim.SetTimesteps(steps);
        return ddim.Timesteps.ToArray();
    }
}
