namespace LaptopDiff.Runtime.Training;

/// <summary>After each optimizer step: where the run is and the step's loss terms.</summary>
public sealed record TrainingProgress(int Step, int Steps, double LearningRate, double GradNorm,
    IReadOnlyList<KeyValuePair<string, double>> Terms, double StepsPerSecond, TimeSpan Elapsed)
{
    /// <summary>Remaining time at this run's rate, once a step has been timed.</summary>
    public TimeSpan? Eta => StepsPerSecond > 0 ? TimeSpan.FromSeconds((Steps - Step) / StepsPerSecond) : null;
}

/// <summary>How a run ended.</summary>
public enum TrainingEnd
{
    /// <summary>All steps done; the final checkpoint is written.</summary>
    Completed,
    /// <summary>Cancelled (SIGINT): a checkpoint of the last completed step is written.</summary>
    Interrupted,
}

/// <param name="ResumedFrom">The checkpoint step the run continued from (0 for a fresh run).</param>
/// <param name="StepsPerSecond">This process's steps per second (excluding checkpoint writes is not attempted: they are part of the cost).</param>
public sealed record TrainingOutcome(TrainingEnd End, int Step, int ResumedFrom, string? CheckpointPath, double StepsPerSecond, double ElapsedSeconds,
    IReadOnlyList<KeyValuePair<string, double>> LastTerms);

/// <summary>A loss term or the gradient norm became NaN or infinite; the run stopped without writing a checkpoint of it.</summary>
public sealed class NonFiniteLossException(int step, string term, double value, string? lastCheckpoint)
    : Exception($"step {step}: {term} is {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}; stopped. " +
                (lastCheckpoint != null ? $"The last good checkpoint is '{lastCheckpoint}' (resume the run from it, e.g. with a lower learning rate in a new run)." : "No checkpoint was written yet."))
{
    public int Step { get; } = step;
    public string Term { get; } = term;
    public string? LastCheckpoint { get; } = lastCheckpoint;
}
