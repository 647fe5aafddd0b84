using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// What a run trains and minimises. <see cref="Trained"/> names the modules whose parameters the
/// optimizer updates (checkpoint keys are <c>PREFIX.state-dict-key</c>); <see cref="Loss"/> returns the
/// scalar to minimise and every term to log.
/// </summary>
public interface ITrainingObjective
{
    IReadOnlyList<(string Prefix, nn.Module Module)> Trained { get; }

    LossTerms Loss(TrainingBatch batch);
}

/// <summary>
/// One micro-batch's loss: <see cref="Total"/> (scalar, with gradient) and named terms to log (plain
/// numbers); a non-finite term stops the run.
/// </summary>
public sealed record LossTerms(Tensor Total, IReadOnlyList<KeyValuePair<string, double>> Terms) : IDisposable
{
    public void Dispose() => Total.Dispose();
}
