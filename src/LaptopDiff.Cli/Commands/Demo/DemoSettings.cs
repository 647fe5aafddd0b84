using System.Text.Json;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// The demo's budgets. The default run fits 20 minutes on 2 cores; <c>--quick</c> is a smoke run of the same
/// pipeline (minutes, for CI) whose numbers mean nothing. Every value is part of the run's fingerprint.
/// </summary>
public sealed record DemoSettings
{
    public required string Name { get; init; }
    /// <summary>Fraction of the teacher's U-Net parameters every student removes.</summary>
    public double Ratio { get; init; } = 0.5;
    /// <summary>Training digits the sweep averages over (stratified by class).</summary>
    public int CalibrationSamples { get; init; }
    /// <summary>Held-out digits for the additivity check, the one-shot comparison and the output MSE.</summary>
    public int HeldOutSamples { get; init; }
    public int AdditivitySubsets { get; init; }
    /// <summary>Distillation steps per student (the same budget for every method).</summary>
    public int DistillSteps { get; init; }
    public int DistillBatch { get; init; }
    public double DistillLearningRate { get; init; } = 5e-4;
    public int SamplesPerClass { get; init; }
    public int SamplingSteps { get; init; } = 25;
    public double GuidanceScale { get; init; } = 3.0;
    public long Seed { get; init; }

    public static DemoSettings Default { get; } = new()
    {
        Name = "default", CalibrationSamples = 256, HeldOutSamples = 256, AdditivitySubsets = 20,
        DistillSteps = 200, DistillBatch = 32, SamplesPerClass = 20,
    };

    public static DemoSettings Quick { get; } = new()
    {
        Name = "quick", CalibrationSamples = 20, HeldOutSamples = 20, AdditivitySubsets = 4,
        DistillSteps = 4, DistillBatch = 8, SamplesPerClass = 2, SamplingSteps = 5,
    };

    /// <summary>A stable text of every value: a finished stage is reused only by a run with the same fingerprint.</summary>
    public string Fingerprint(string teacherHash) => $"teacher {teacherHash}\nsettings {JsonSerializer.Serialize(this)}\n";
}
