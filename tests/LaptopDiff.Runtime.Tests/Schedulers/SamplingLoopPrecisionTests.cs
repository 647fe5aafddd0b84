using LaptopDiff.Runtime.Schedulers;
using static LaptopDiff.Runtime.Tests.Schedulers.ClosedForms;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Schedulers;

/// <summary>
/// Whole 6-step loops (the fixture runs' length) in float32 against the same loops in double, with a smooth model
/// that depends on the (fractional) timestep: the schedulers' float32 arithmetic must leave the 1e-4 relative L2
/// budget of the fixtures' final latents to the U-Net.
/// </summary>
public sealed class SamplingLoopPrecisionTests
{
    private static double Model(double x, double t) => 0.8 * Math.Tanh(x) + 0.2 * Math.Sin(x * t / 300);

    private static Tensor Model(Tensor x, Tensor t) =>
        0.8 * x.tanh() + 0.2 * (x * t.to_type(ScalarType.Float32) / 300).sin();

    [Fact]
    public void Ddim_loop_of_sd15_matches_double_arithmetic()
    {
        var ddim = new DdimScheduler(SdDdim);
        ddim.SetTimesteps(6);
        var (noise, xs) = Random(11, 1, 4, 8, 8);
        var x = noise * ddim.InitNoiseSigma;
        for (int k = 0; k < 6; k++) x = ddim.Step(Model(ddim.ScaleModelInput(x, k), ddim.TimestepTensor(k)), k, x);

        long[] ts = [831, 665, 499, 333, 167, 1];
        var acp = SdAlphasCumprod;
        var reference = xs.Select(v =>
        {
            for (int k = 0; k < 6; k++)
            {
                double a = acp[ts[k]], aPrev = k < 5 ? acp[ts[k + 1]] : acp[0], e = Model(v, ts[k]);
                v = Math.Sqrt(aPrev) * (v - Math.Sqrt(1 - a) * e) / Math.Sqrt(a) + Math.Sqrt(1 - aPrev) * e;
            }
            return v;
        }).ToArray();
        Assert.InRange(RelativeL2(x, reference), 0, 1e-5);
    }

    [Theory]
    [InlineData(TimestepSpacing.Linspace)]                                  // SD-1.5 folder's Euler: fractional timesteps
    [InlineData(TimestepSpacing.Leading)]                                   // SDXL's
    public void Euler_loop_matches_double_arithmetic(TimestepSpacing spacing)
    {
        var euler = new EulerDiscreteScheduler(SdEuler with { Spacing = spacing });
        euler.SetTimesteps(6);
        var (noise, xs) = Random(12, 1, 4, 8, 8);
        var x = noise * euler.InitNoiseSigma;
        for (int k = 0; k < 6; k++) x = euler.Step(Model(euler.ScaleModelInput(x, k), euler.TimestepTensor(k)), k, x);

        double[] ts = spacing == TimestepSpacing.Linspace
            ? Enumerable.Range(0, 6).Select(k => (double)(float)((5 - k) * 999.0 / 5)).ToArray()
            : [831, 665, 499, 333, 167, 1];
        var sigmas = ts.Select(SdSigmaAt).Append(0).ToArray();
        double init = spacing == TimestepSpacing.Linspace ? sigmas[0] : Math.Sqrt(sigmas[0] * sigmas[0] + 1);
        var reference = xs.Select(n =>
        {
            double v = n * init;
            for (int k = 0; k < 6; k++)
            {
                double e = Model(v / Math.Sqrt(sigmas[k] * sigmas[k] + 1), ts[k]);
                v += e * (sigmas[k + 1] - sigmas[k]);                          // d = (v - (v - s e)) / s = e
            }
            return v;
        }).ToArray();
        Assert.InRange(RelativeL2(x, reference), 0, 1e-5);
    }

    private static double RelativeL2(Tensor actual, double[] expected)
    {
        var a = actual.data<float>().ToArray();
        double diff = Math.Sqrt(a.Zip(expected).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
        return diff / Math.Sqrt(expected.Sum(v => v * v));
    }
}
