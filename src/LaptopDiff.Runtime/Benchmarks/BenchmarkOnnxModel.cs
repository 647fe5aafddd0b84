using LaptopDiff.Runtime.Onnx;

namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>
/// The U-Net ONNX Runtime runs in a benchmark: the file given, or the benchmark model's own weights exported to a
/// temporary folder (removed on dispose), opened at the benchmark's threads.
/// </summary>
internal sealed class BenchmarkOnnxModel : IDisposable
{
    private readonly string? _tempFolder;

    private BenchmarkOnnxModel(OnnxUNet unet, string? tempFolder)
    {
        UNet = unet;
        _tempFolder = tempFolder;
    }

    public OnnxUNet UNet { get; }
    public string Path => UNet.Path;
    /// <summary>Whether the graph holds the TorchSharp model's weights (it was exported here).</summary>
    public bool SameWeights => _tempFolder is not null;

    public static BenchmarkOnnxModel Open(UNet2DCondition model, UNetBenchmarkOptions options, Action<string>? progress)
    {
        var sessionOptions = new OnnxSessionOptions { Threads = options.Threads };
        if (options.OnnxModelPath is { } given) return new BenchmarkOnnxModel(OnnxUNet.Open(given, sessionOptions), null);

        var folder = Directory.CreateTempSubdirectory("laptopdiff-bench-onnx-").FullName;
        try
        {
            var path = System.IO.Path.Combine(folder, "unet.onnx");
            var report = OnnxExporter.ExportUNet(model.Layout, new ModuleWeightSource(model), path);
            progress?.Invoke($"exported the benchmark's weights to {path}{(report.DataPath is null ? "" : " + .data")}");
            return new BenchmarkOnnxModel(OnnxUNet.Open(path, sessionOptions), folder);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        UNet.Dispose();
        if (_tempFolder is not null) Directory.Delete(_tempFolder, recursive: true);
    }
}
