using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Digits;

/// <summary>Settings every digits run shares (models/digits/README.md says why).</summary>
public static class DigitsModel
{
    /// <summary>DDPM's linear schedule, 1e-4 to 0.02 over 1000 steps: pixel space needs (almost) no signal left at t = T.</summary>
    public static NoiseSchedule Schedule { get; } = new() { Kind = BetaSchedule.Linear, BetaStart = 0.0001, BetaEnd = 0.02 };
}
