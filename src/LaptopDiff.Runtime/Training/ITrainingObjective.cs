using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// The modules whose parameters a run's optimizer updates; checkpoint keys are <c>PREFIX.state-dict-key</c>.
/// </summary>
public interface ITrainedModules
{
    IReadOnlyList<(string Prefix, nn.Module Module)> Trained { get; }
}

/// <summary>What a run trains and minimises over batches of <typeparamref name="TBatch"/>: the scalar to minimise and every term to log.</summary>
public interface ITrainingObjective<in TBatch> : ITrainedModules
{
    LossTerms Loss(TBatch batch);
}

/// <summary>A diffusion objective: over noised micro-batches (<see cref="TrainingBatch"/>).</summary>
public interface ITrainingObjective : ITrainingObjective<TrainingBatch>;

/// <summary>
/// Where a run's micro-batches come from: a pure function of (step, micro-batch), so a resumed run sees exactly what the
/// uninterrupted one would have. <see cref="Position"/> is the first sample position of a micro-batch (checkpoint metadata).
/// </summary>
public interface ITrainingBatches<out TBatch> where TBatch : IDisposable
{
    TBatch Batch(int step, int micro);

    long Position(int step, int micro);
}

/// <summary>
/// One micro-batch's loss: <see cref="Total"/> (scalar, with gradient) and named terms to log (plain
/// numbers); a non-finite term stops the run.
/// </summary>
public sealed record LossTerms(Tensor Total, IReadOnlyList<KeyValuePair<string, double>> Terms) : IDisposable
{
    public void Dispose() => Total.Dispose();
}
