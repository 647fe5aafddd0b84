using LaptopDiff.Runtime.Onnx;

namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>The U-Net ONNX Runtime runs in a benchmark: the file given, or the benchmark model's own weights exported.</summary>
internal static class BenchmarkOnnxModel
{
    /// <summary>The runner, and whether it holds the TorchSharp model's weights (it was exported here).</summary>
    public static (OnnxUNet UNet, bool SameWeights) Open(UNet2DCondition model, UNetBenchmarkOptions options, Action<string>? progress)
    {
        var sessionOptions = new OnnxSessionOptions { Threads = options.Threads };
        if (options.OnnxModelPath is { } given) return (OnnxUNet.Open(given, sessionOptions), false);
        var unet = OnnxUNet.FromModel(model, sessionOptions);
        progress?.Invoke($"exported the benchmark's weights to {unet.Path}");
        return (unet, true);
    }
}
