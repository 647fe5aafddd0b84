namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>Median times of a forward (inference mode) and of forward + backward of an MSE loss.</summary>
public sealed record UNetBenchmarkReport(
    string Spec, long ParamCount, int Batch, int Threads, int SampleSize, int Tokens,
    double ForwardMs, double ForwardBackwardMs, IReadOnlyList<double> ForwardRunsMs, IReadOnlyList<double> ForwardBackwardRunsMs);
