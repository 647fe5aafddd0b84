using Google.Protobuf;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Onnx.Proto;
using static TorchSharp.torch;
using DataType = LaptopDiff.Runtime.Onnx.Proto.TensorProto.Types.DataType;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>A weight of the graph whose data is read only when the file is written.</summary>
/// <param name="Read">The tensor in the stored layout (transposed, reshaped), any floating dtype; the writer disposes it.</param>
internal sealed record PendingWeight(TensorProto Proto, Func<Tensor> Read)
{
    public long Numel => Proto.Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Builds one ONNX graph: typed inputs and outputs with symbolic dimensions, nodes appended after their inputs exist
/// (so the node list is in topological order) with unique names, deduplicated constants, and weights whose data is
/// read when the file is written. It records the first user of each operator, so the opset a graph needs is known,
/// and a too-low opset refused, before anything is read or written.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly IOnnxWeightSource _weights;
    private readonly List<PendingWeight> _pending = [];
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _firstUser = new(StringComparer.Ordinal);
    private readonly HashSet<string> _initializerNames = new(StringComparer.Ordinal);
    private int _nodes;

    public OnnxGraph(string name, OnnxPrecision precision, IOnnxWeightSource weights)
    {
        Proto = new GraphProto { Name = name };
        Precision = precision;
        Compute = precision == OnnxPrecision.Float16 ? DataType.Float16 : DataType.Float;
        _weights = weights;
    }

    public GraphProto Proto { get; }
    public OnnxPrecision Precision { get; }
    /// <summary>The element type activations and weights are computed in.</summary>
    public DataType Compute { get; }
    public IReadOnlyList<PendingWeight> Weights => _pending;
    public long WeightParamCount => _pending.Sum(w => w.Numel);

    /// <summary>The lowest opset with every operator used: the largest first opset among them.</summary>
    public int RequiredOpset => _firstUser.Keys.Select(OnnxOpsets.FirstFor).DefaultIfEmpty(1).Max();

    /// <summary>Refuses an opset this graph cannot be written in, naming the operator that needs more and where it is used.</summary>
    /// <exception cref="InputException">Below what the graph needs, or above <see cref="OnnxOpsets.Newest"/>.</exception>
    public void CheckOpset(int opset, string what)
    {
        if (opset > OnnxOpsets.Newest)
            throw new InputException($"opset {opset} is newer than the exporter writes (opsets up to {OnnxOpsets.Newest}); {what} needs opset {RequiredOpset} or newer.", nameof(OnnxExportOptions.Opset));
        var needing = _firstUser.Where(u => OnnxOpsets.FirstFor(u.Key) > opset).OrderByDescending(u => OnnxOpsets.FirstFor(u.Key)).ToList();
        if (needing.Count == 0) return;
        var ops = string.Join(", ", needing.Select(u => $"{u.Key} needs opset {OnnxOpsets.FirstFor(u.Key)} (first used by {u.Value})"));
        throw new InputException($"opset {opset} is below what {what} needs: {ops}. Export with opset {RequiredOpset} or newer (up to {OnnxOpsets.Newest}).", nameof(OnnxExportOptions.Opset));
    }

    /// <summary>A graph input; each dimension is a size (int or long) or a symbolic name (string) shared by inputs and outputs.</summary>
    public string Input(string name, DataType type, params object[] dims)
    {
        Proto.Input.Add(Value(name, type, dims));
        return name;
    }

    /// <summary>Makes <paramref name="value"/> the graph output <paramref name="name"/>.</summary>
    public void Output(string value, string name, DataType type, params object[] dims)
    {
        Proto.Node.Add(new NodeProto { OpType = "Identity", Name = $"{name}/Identity", Input = { value }, Output = { name } });
        _firstUser.TryAdd("Identity", name);
        Proto.Output.Add(Value(name, type, dims));
    }

    /// <summary>Appends a node of <paramref name="op"/> (named after <paramref name="scope"/>, e.g. the module key) and returns its output.</summary>
    public string Op(string op, string scope, IReadOnlyList<string> inputs, params AttributeProto[] attributes)
    {
        _ = OnnxOpsets.FirstFor(op);
        _firstUser.TryAdd(op, scope);
        var name = $"{scope}/{op}_{_nodes++}";
        var node = new NodeProto { OpType = op, Name = name, Output = { name } };
        node.Input.AddRange(inputs);
        node.Attribute.AddRange(attributes);
        Proto.Node.Add(node);
        return name;
    }

    public long[] ShapeOf(string key) => _weights.ShapeOf(key);

    /// <summary>The weight <paramref name="key"/> as stored.</summary>
    public string Weight(string key) => AddWeight(key, ShapeOf(key), () => _weights.Read(key));

    /// <summary>The weight <paramref name="key"/> viewed with <paramref name="dims"/> (same element count), e.g. a norm's [C] as [C,1,1].</summary>
    public string Weight(string key, long[] dims)
    {
        long numel = ShapeOf(key).Aggregate(1L, (a, b) => a * b);
        if (dims.Aggregate(1L, (a, b) => a * b) != numel)
            throw new InvalidOperationException($"{key} [{string.Join(",", ShapeOf(key))}] cannot be viewed as [{string.Join(",", dims)}]");
        return AddWeight(key, dims, () => Reshaped(_weights.Read(key), dims));
    }

    /// <summary>
    /// A linear layer's weight [out, in] (or a 1x1 convolution's [out, in, 1, 1]) stored transposed, [in, out], so MatMul
    /// applies it to [.., in] without a Transpose node.
    /// </summary>
    public string WeightTransposed(string key)
    {
        var shape = ShapeOf(key);
        if (shape.Length < 2 || shape.Skip(2).Any(d => d != 1)) throw new InvalidOperationException($"{key} [{string.Join(",", shape)}] is not a matrix");
        return AddWeight(key, [shape[1], shape[0]], () => Transposed(_weights.Read(key)));
    }

    /// <summary>A 1-D int64 constant (shapes, axes, indices), shared by every node that uses the same values.</summary>
    public string Int64s(params long[] values)
    {
        var name = "const_i64[" + string.Join(",", values) + "]";
        if (_constants.TryAdd(name, name))
        {
            var bytes = new byte[values.Length * sizeof(long)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            AddConstant(name, DataType.Int64, [values.Length], bytes);
        }
        return name;
    }

    /// <summary>A scalar of the compute type (broadcasts against any tensor).</summary>
    public string Scalar(float value) => Floats(Compute, [], [value]);

    /// <summary>A constant of <paramref name="type"/> (float or float16) with <paramref name="dims"/>, deduplicated by content.</summary>
    public string Floats(DataType type, long[] dims, float[] values)
    {
        var bytes = type switch
        {
            DataType.Float => FloatBytes(values),
            DataType.Float16 => HalfBytes(values),
            _ => throw new ArgumentException($"{type} is not a floating type", nameof(type)),
        };
        var key = $"{type}[{string.Join(",", dims)}]{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var name = values.Length == 1 ? $"const_{type.ToString().ToLowerInvariant()}_{values[0]:R}" : $"const_{type.ToString().ToLowerInvariant()}_{_constants.Count}";
        while (_initializerNames.Contains(name)) name += "_";
        AddConstant(name, type, dims, bytes);
        _constants[key] = name;
        return name;
    }

    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attr(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attr(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private string AddWeight(string key, long[] dims, Func<Tensor> read)
    {
        if (!_initializerNames.Add(key)) throw new InvalidOperationException($"weight '{key}' is added to the graph twice");
        var proto = new TensorProto { Name = key, DataType = (int)Compute };
        proto.Dims.AddRange(dims);
        _pending.Add(new PendingWeight(proto, read));
        return key;
    }

    private void AddConstant(string name, DataType type, long[] dims, byte[] bytes)
    {
        _initializerNames.Add(name);
        var proto = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        proto.Dims.AddRange(dims);
        Proto.Initializer.Add(proto);
    }

    private static ValueInfoProto Value(string name, DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                long size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"dimension {d} of '{name}' is neither a size nor a symbol", nameof(dims)),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static Tensor Reshaped(Tensor t, long[] dims)
    {
        using (t) return t.reshape(dims);
    }

    private static Tensor Transposed(Tensor t)
    {
        using (t)
        using (var matrix = t.flatten(1))                                             // [out,in]
            return matrix.t().contiguous();                                           // [in,out]
    }

    private static byte[] FloatBytes(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    private static byte[] HalfBytes(float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)values[i]));
        return bytes;
    }
}
