using LaptopDiff.Runtime.Schedulers;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Schedulers;

/// <summary>Stable Diffusion's schedule in double, written out here so tests do not check the code with itself.</summary>
internal static class ClosedForms
{
    /// <summary>acp_t for betas = linspace(sqrt(0.00085), sqrt(0.012), 1000)^2.</summary>
    public static double[] SdAlphasCumprod { get; } = Cumprod(Enumerable.Range(0, 1000)
        .Select(t => Math.Pow(Math.Sqrt(0.00085) + (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) * t / 999, 2)));

    public static double Sigma(double acp) => Math.Sqrt((1 - acp) / acp);

    /// <summary>sigma at a fractional training timestep: linear between the integer timesteps around it.</summary>
    public static double SdSigmaAt(double t)
    {
        int j = (int)Math.Floor(t);
        double low = Sigma(SdAlphasCumprod[j]);
        return t == j ? low : low + (t - j) * (Sigma(SdAlphasCumprod[j + 1]) - low);
    }

    /// <summary>SD-1.5's and SDXL's training settings (scaled linear 0.00085..0.012, T = 1000, leading with offset 1), epsilon.</summary>
    public static DdimOptions SdDdim { get; } = new()
    {
        Schedule = NoiseSchedule.StableDiffusion, Prediction = PredictionType.Epsilon, Spacing = TimestepSpacing.Leading, StepsOffset = 1,
        ClipSample = false, ClipSampleRange = 1.0, SetAlphaToOne = false,
    };

    public static EulerDiscreteOptions SdEuler { get; } = new()
    {
        Schedule = NoiseSchedule.StableDiffusion, Prediction = PredictionType.Epsilon, Spacing = TimestepSpacing.Leading, StepsOffset = 1,
        FinalSigmas = FinalSigmas.Zero,
    };

    /// <summary>Seeded values of a float32 tensor, as doubles, and the tensor.</summary>
    public static (Tensor Tensor, double[] Values) Random(long seed, params long[] shape)
    {
        var t = randn(shape, generator: new Generator((ulong)seed));
        return (t, t.data<float>().Select(v => (double)v).ToArray());
    }

    /// <summary>max |actual - expected| over max |expected|.</summary>
    public static double MaxRelativeError(Tensor actual, IReadOnlyList<double> expected)
    {
        var a = actual.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        Assert.Equal(expected.Count, a.Length);
        double scale = expected.Max(Math.Abs);
        return a.Zip(expected).Max(p => Math.Abs(p.First - p.Second)) / scale;
    }

    private static double[] Cumprod(IEnumerable<double> betas)
    {
        double running = 1;
        return betas.Select(b => running *= 1 - b).ToArray();
    }
}
