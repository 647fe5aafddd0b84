using System.Text.Json;
using System.Text.Json.Serialization;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// The demo's budgets. The default run takes about 17 minutes on 2 cores (the goal is at most 20); <c>--quick</c>
/// is a smoke run of the same pipeline (minutes, for CI) whose numbers mean nothing. Every value but
/// <see cref="StudySeeds"/> is part of the run's fingerprint.
/// </summary>
public sealed record DemoSettings
{
    public required string Name { get; init; }
    /// <summary>Fraction of the teacher's U-Net parameters (for the latency student: of its measured step latency) every LAPTOP student removes.</summary>
    public double Ratio { get; init; } = 0.5;
    /// <summary>MNIST training digits written as the captioned image folder the students are distilled on.</summary>
    public int TrainImages { get; init; }
    public int ShardSize { get; init; } = 1000;
    /// <summary>States along the teacher's trajectories for training-style captions that the sweep averages over.</summary>
    public int CalibrationSamples { get; init; }
    /// <summary>Further states (other seeds) for the additivity check and the one-shot comparison.</summary>
    public int HeldOutSamples { get; init; }
    public int AdditivitySubsets { get; init; }
    /// <summary>The batch the latency profile (and so the latency budget) is measured at.</summary>
    public int ProfileBatch { get; init; } = 20;
    /// <summary>
    /// Profile runs (medians). At least 5 even in a smoke run: with one, a single hiccup inflated the fixed rest past
    /// half the step under load, and the 50% latency budget became infeasible. 30 in the default run (about 7 s): with 5,
    /// a profile taken while the machine was busy had an interquartile range of 49 ms on a 57 ms step.
    /// </summary>
    public int ProfileRuns { get; init; } = 30;
    /// <summary>Distillation steps per student (the same budget for every method).</summary>
    public int DistillSteps { get; init; }
    public int DistillBatch { get; init; }
    public double DistillLearningRate { get; init; } = 1e-3;
    /// <summary>distill's --lr-schedule after warm-up: cosine to 0 at the last step.</summary>
    public string DistillLearningRateSchedule { get; init; } = "cosine";
    /// <summary>
    /// Training seeds of the normalized-against-vanilla study on the LAPTOP student (the main run's seed first; 1: no
    /// study). Not in the fingerprint: the study only adds stages, so asking for it later reuses a finished run.
    /// </summary>
    [JsonIgnore]
    public int StudySeeds { get; init; } = 1;
    /// <summary>Probability that a training caption is replaced by the empty prompt (keeps guidance working).</summary>
    public double CaptionDropout { get; init; } = 0.1;
    /// <summary>Samples per digit for each caption set (training-style, held-out phrasings).</summary>
    public int SamplesPerClass { get; init; }
    public int SamplingSteps { get; init; } = 25;
    public double GuidanceScale { get; init; } = 3.0;
    public long Seed { get; init; }

    public static DemoSettings Default { get; } = new()
    {
        Name = "default", TrainImages = 9000, CalibrationSamples = 256, HeldOutSamples = 256, AdditivitySubsets = 20,
        DistillSteps = 700, DistillBatch = 32, SamplesPerClass = 20,
    };

    public static DemoSettings Quick { get; } = new()
    {
        Name = "quick", TrainImages = 64, ShardSize = 32, CalibrationSamples = 16, HeldOutSamples = 16, AdditivitySubsets = 3,
        ProfileBatch = 2, ProfileRuns = 5, DistillSteps = 3, StudySeeds = 2, DistillBatch = 8, SamplesPerClass = 2, SamplingSteps = 4,
    };

    /// <summary>A stable text of every value: a finished stage is reused only by a run with the same fingerprint.</summary>
    public string Fingerprint(string teacherHash) => $"teacher {teacherHash}\nsettings {JsonSerializer.Serialize(this)}\n";
}
