using LaptopDiff.Runtime.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>
/// Where an exported graph's weights come from, by state-dict key: their shapes while the graph is built (no data
/// read), their values while the file is written (one tensor at a time, so a model larger than memory still exports).
/// </summary>
public interface IOnnxWeightSource
{
    /// <summary>The tensor's shape.</summary>
    /// <exception cref="WeightsException">No tensor has that key.</exception>
    long[] ShapeOf(string key);

    /// <summary>A CPU tensor of any floating dtype, the caller's to dispose.</summary>
    Tensor Read(string key);
}

/// <summary>Weights read from safetensors files (one file or shards) as the graph's file is written.</summary>
public sealed class SafetensorsWeightSource(SafetensorsSet weights) : IOnnxWeightSource, IDisposable
{
    private readonly Dictionary<string, SafetensorsDataReader> _readers = new(StringComparer.Ordinal);

    public long[] ShapeOf(string key) => Entry(key).Shape.ToArray();

    public Tensor Read(string key)
    {
        var entry = Entry(key);
        var file = weights.FileOf(key);
        if (!_readers.TryGetValue(file.Path, out var reader)) _readers[file.Path] = reader = new SafetensorsDataReader(file);
        return reader.Read(entry);
    }

    public void Dispose()
    {
        foreach (var reader in _readers.Values) reader.Dispose();
        _readers.Clear();
    }

    private SafetensorsEntry Entry(string key) => weights.Find(key)
        ?? throw new WeightsException($"'{weights.Path}' has no tensor '{key}', which the exported model needs.");
}

/// <summary>The state dict of a loaded module (e.g. random weights of a benchmark, a CLIP text encoder).</summary>
public sealed class ModuleWeightSource(nn.Module module) : IOnnxWeightSource
{
    private readonly Dictionary<string, Tensor> _state = module.state_dict();

    public long[] ShapeOf(string key) => Tensor(key).shape;

    public Tensor Read(string key)
    {
        var t = Tensor(key);
        if (t.device_type == DeviceType.CPU) return t.detach();
        using var detached = t.detach();
        return detached.cpu();
    }

    private Tensor Tensor(string key) => _state.TryGetValue(key, out var t) ? t
        : throw new WeightsException($"module {module.GetName()} has no tensor '{key}', which the exported model needs.");
}
