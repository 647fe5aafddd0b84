using LaptopDiff.Runtime.Digits;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Runtime.Evaluation;

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
        if (SamplesPerClass < 2) throw new ArgumentException($"--samples-per-class must be at least 2, got {SamplesPerClass}");
        if (Batch < 1) throw new ArgumentException($"--batch must be at least 1, got {Batch}");
        if (MseSamples < 2) throw new ArgumentException($"--mse-samples must be at least 2, got {MseSamples}");
        if (!(GuidanceScale >= 0)) throw new ArgumentException($"--guidance must be >= 0, got {GuidanceScale}");
        _ = new Sampling.DdimSampler(Schedule, Steps);
    }
}
