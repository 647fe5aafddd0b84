namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>
/// Median times of the runtimes measured: TorchSharp's forward (inference mode) and forward + backward of an MSE
/// loss (null when not measured: a comparison with ONNX Runtime times forwards only), and ONNX Runtime's forward.
/// </summary>
public sealed record UNetBenchmarkReport(
    string Spec, long ParamCount, int Batch, int Threads, int SampleSize, int Tokens,
    double? ForwardMs, double? ForwardBackwardMs, IReadOnlyList<double> ForwardRunsMs, IReadOnlyList<double> ForwardBackwardRunsMs)
{
    public OnnxForwardTiming? Onnx { get; init; }
}

/// <summary>ONNX Runtime's forward of <paramref name="ModelPath"/>, or (null) of the benchmark's weights exported to a temporary file.</summary>
/// <param name="RelL2ToTorch">Relative L2 distance of its output to TorchSharp's on the benchmark's inputs, when both
/// ran the same weights (an exported file given from outside holds others: null).</param>
public sealed record OnnxForwardTiming(string? ModelPath, double ForwardMs, IReadOnlyList<double> RunsMs, double? RelL2ToTorch);
