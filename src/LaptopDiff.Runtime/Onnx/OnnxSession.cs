using LaptopDiff.Runtime.Inputs;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>How ONNX Runtime runs a model on the CPU.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Intra-op threads (ONNX Runtime's pool); null keeps its default (one per core).</summary>
    public int? Threads { get; init; }

    /// <summary>
    /// Graph optimisations: ONNX Runtime's full set (operator fusion, constant folding, layout changes) by default;
    /// false runs the graph exactly as written.
    /// </summary>
    public bool Optimize { get; init; } = true;
}

/// <summary>
/// An ONNX model loaded into ONNX Runtime, fed and read as TorchSharp tensors: inputs are converted to the element
/// type the model declares (float32, float16, int64) and handed to ONNX Runtime without a copy; outputs are copied into
/// new tensors of their own element type.
/// </summary>
public sealed class OnnxSession : IDisposable
{
    private readonly InferenceSession _session;

    private OnnxSession(InferenceSession session, string path)
    {
        _session = session;
        Path = path;
        Inputs = session.InputMetadata.ToDictionary(m => m.Key, m => ScalarTypeOf(m.Value.ElementDataType, m.Key, path), StringComparer.Ordinal);
        Outputs = session.OutputMetadata.Keys.ToList();
    }

    public string Path { get; }
    /// <summary>Each input's name and the element type it takes.</summary>
    public IReadOnlyDictionary<string, ScalarType> Inputs { get; }
    public IReadOnlyList<string> Outputs { get; }

    /// <exception cref="InputException">The file is missing or ONNX Runtime cannot load it.</exception>
    public static OnnxSession Open(string path, OnnxSessionOptions? options = null)
    {
        options ??= new OnnxSessionOptions();
        if (!File.Exists(path)) throw new InputException($"ONNX model '{path}' does not exist.");
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.Optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
            IntraOpNumThreads = options.Threads ?? 0,
        };
        try
        {
            return new OnnxSession(new InferenceSession(path, sessionOptions), path);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InputException($"ONNX Runtime cannot load '{path}': {e.Message}");
        }
    }

    /// <summary>Runs the model on <paramref name="inputs"/> (every input it declares) and returns <paramref name="outputs"/> in that order.</summary>
    public Tensor[] Run(IReadOnlyDictionary<string, Tensor> inputs, params string[] outputs)
    {
        foreach (var name in Inputs.Keys)
            if (!inputs.ContainsKey(name)) throw new ArgumentException($"{System.IO.Path.GetFileName(Path)} needs input '{name}'", nameof(inputs));
        using var scope = NewDisposeScope();
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var (name, type) in Inputs)
            {
                var t = inputs[name].to_type(type).contiguous();                       // lives in the scope until the run ends
                names.Add(name);
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, ElementTypeOf(type), t.shape, DataPointer(t), t.NumberOfElements * t.ElementSize));
            }
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, names, values, outputs);
            return results.Select(r => ToTensor(r).MoveToOuterDisposeScope()).ToArray();
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    public void Dispose() => _session.Dispose();

    private static unsafe IntPtr DataPointer(Tensor t)
    {
        fixed (byte* p = t.bytes) return (IntPtr)p;                                   // native memory: no pinning needed
    }

    private static Tensor ToTensor(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var tensor = empty(info.Shape, ScalarTypeOf(info.ElementDataType, "output", "the model"));
        value.GetTensorMutableRawData().CopyTo(tensor.bytes);
        return tensor;
    }

    private static TensorElementType ElementTypeOf(ScalarType type) => type switch
    {
        ScalarType.Float32 => TensorElementType.Float,
        ScalarType.Float16 => TensorElementType.Float16,
        ScalarType.Int64 => TensorElementType.Int64,
        ScalarType.Int32 => TensorElementType.Int32,
        _ => throw new ArgumentException($"no ONNX element type for {type}", nameof(type)),
    };

    private static ScalarType ScalarTypeOf(TensorElementType type, string name, string path) => type switch
    {
        TensorElementType.Float => ScalarType.Float32,
        TensorElementType.Float16 => ScalarType.Float16,
        TensorElementType.Int64 => ScalarType.Int64,
        TensorElementType.Int32 => ScalarType.Int32,
        _ => throw new InputException($"'{path}': {name} has element type {type}, which LaptopDiff does not feed or read."),
    };
}
