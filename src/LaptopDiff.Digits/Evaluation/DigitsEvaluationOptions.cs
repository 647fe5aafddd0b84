using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Digits.Evaluation;

/// <summary>Fixed counts and seeds, so numbers are comparable between runs and models.</summary>
public sealed record DigitsEvaluationOptions
{
    public int SamplesPerClass { get; init; } = 50;
    public double GuidanceScale { get; init; } = 3.0;
    public int Steps { get; init; } = 25;
    public long Seed { get; init; }
    /// <summary>Samples per sampler batch (x2 inside the U-Net with guidance).</summary>
    public int Batch { get; init; } = 50;
    public NoiseSchedule Schedule { get; init; } = DigitsModel.Schedule;
    /// <summary>Held-out digits noised for the output MSE to the teacher.</summary>
    public int MseSamples { get; init; } = 500;
    public int BootstrapResamples { get; init; } = 200;

    public void Validate()
    {
        if (SamplesPerClass < 2) throw new SettingException(nameof(SamplesPerClass), SamplesPerClass, "must be at least 2");
        if (Batch < 1) throw new SettingException(nameof(Batch), Batch, "must be at least 1");
        if (MseSamples < 2) throw new SettingException(nameof(MseSamples), MseSamples, "must be at least 2");
        if (!(GuidanceScale >= 0)) throw new SettingException(nameof(GuidanceScale), GuidanceScale, "must be >= 0");
        _ = new LaptopDiff.Runtime.Sampling.DdimSampler(Schedule, Steps);
    }
}
