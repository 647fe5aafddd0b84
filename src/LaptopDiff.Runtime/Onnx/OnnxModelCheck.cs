using LaptopDiff.Runtime.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using DataType = LaptopDiff.Runtime.Onnx.Proto.TensorProto.Types.DataType;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>
/// Checks an ONNX model file without Python, in two parts. First our C# version of the structural rules of ONNX's checker
/// (<c>onnx.checker.check_model</c>): IR version and opset imports, typed and uniquely named inputs, initializers whose
/// data matches their type and shape (external data inside the model's folder and long enough), nodes in topological
/// order that only read values defined before them, each value defined once, outputs that are defined, operators of the
/// default domain that exist at the imported opset. Then ONNX Runtime loads the file with every graph optimisation on,
/// strict type and shape inference and released opsets only: its graph resolution runs ONNX's own C++
/// <c>checker::check_node</c> on every node (schema, input and output counts, attributes) and the operators' type and
/// shape inference, and the optimised graph must resolve again. Not inspected (the exporter writes none): model-local
/// functions, sparse initializers, subgraphs, value_info. What this leaves to <c>onnx.checker</c>: Onnx/README.md.
/// </summary>
public static class OnnxModelCheck
{
    /// <summary>Every problem found; empty when the file passes.</summary>
    public static IReadOnlyList<string> Check(string path)
    {
        ModelProto model;
        try
        {
            using var stream = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (Exception e) when (e is IOException or Google.Protobuf.InvalidProtocolBufferException)
        {
            return [$"'{path}' is not a readable ONNX model: {e.Message}"];
        }
        var problems = CheckStructure(model, Path.GetDirectoryName(Path.GetFullPath(path)));
        if (problems.Count > 0) return problems;
        try
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            options.AddSessionConfigEntry("session.strict_shape_type_inference", "1");   // inference inconsistencies fail instead of warning
            options.AddSessionConfigEntry("session.allow_released_opsets_only", "1");
            using var session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            problems.Add($"ONNX Runtime rejects the graph: {e.Message}");
        }
        return problems;
    }

    internal static List<string> CheckStructure(ModelProto model, string? directory)
    {
        var problems = new List<string>();
        if (model.IrVersion < 3 || model.IrVersion > (long)Proto.Version.IrVersion)
            problems.Add($"ir_version {model.IrVersion} is not a known IR version (3..{(long)Proto.Version.IrVersion})");
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (opset is null) problems.Add("no opset import of the default domain");
        else if (opset.Version < 1 || opset.Version > OnnxOpsets.Newest) problems.Add($"default-domain opset {opset.Version} is outside 1..{OnnxOpsets.Newest}");
        if (model.Graph is not { } graph)
        {
            problems.Add("the model has no graph");
            return problems;
        }
        if (string.IsNullOrEmpty(graph.Name)) problems.Add("the graph has no name");

        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in graph.Input) Define(input.Name, "graph input");
        foreach (var input in graph.Input.Concat(graph.Output)) CheckValueType(input);
        foreach (var tensor in graph.Initializer)
        {
            Define(tensor.Name, "initializer");
            CheckTensor(tensor, directory, problems);
        }
        foreach (var node in graph.Node)
        {
            var what = $"node '{node.Name}' ({node.OpType})";
            if (string.IsNullOrEmpty(node.OpType)) problems.Add($"{what} has no op_type");
            else if (node.Domain is not ("" or "ai.onnx")) problems.Add($"{what} is in domain '{node.Domain}', which no opset import declares");
            else if (!OnnxOpsets.IsKnown(node.OpType)) problems.Add($"{what}: '{node.OpType}' is not an operator this check knows");
            else if (opset is not null && OnnxOpsets.FirstFor(node.OpType) > opset.Version)
                problems.Add($"{what} needs opset {OnnxOpsets.FirstFor(node.OpType)}, the model imports {opset.Version}");
            foreach (var input in node.Input)
                if (input.Length > 0 && !defined.Contains(input)) problems.Add($"{what} reads '{input}' before it is defined (not topologically sorted, or undefined)");
            foreach (var output in node.Output) Define(output, what);
            foreach (var attribute in node.Attribute)
                if (string.IsNullOrEmpty(attribute.Name) || attribute.Type == AttributeProto.Types.AttributeType.Undefined)
                    problems.Add($"{what} has an attribute without a name or type");
        }
        foreach (var output in graph.Output)
            if (!defined.Contains(output.Name)) problems.Add($"graph output '{output.Name}' is not produced by any node, input or initializer");
        return problems;

        void Define(string name, string by)
        {
            if (string.IsNullOrEmpty(name)) problems.Add($"{by} has an empty name");
            else if (!defined.Add(name)) problems.Add($"'{name}' ({by}) is defined twice");
        }

        void CheckValueType(ValueInfoProto value)
        {
            if (value.Type?.TensorType is not { } tensor || tensor.ElemType == (int)DataType.Undefined)
                problems.Add($"graph input or output '{value.Name}' has no tensor element type");
        }
    }

    private static void CheckTensor(TensorProto tensor, string? directory, List<string> problems)
    {
        var what = $"initializer '{tensor.Name}'";
        int size = (DataType)tensor.DataType switch
        {
            DataType.Float or DataType.Int32 => 4,
            DataType.Float16 => 2,
            DataType.Int64 or DataType.Double => 8,
            _ => 0,
        };
        if (size == 0)
        {
            problems.Add($"{what} has data type {tensor.DataType}, which this check does not expect");
            return;
        }
        if (tensor.Dims.Any(d => d < 0)) problems.Add($"{what} has a negative dimension");
        long bytes = tensor.Dims.Aggregate(1L, (a, b) => a * b) * size;
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            var entries = tensor.ExternalData.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
            if (!entries.TryGetValue("location", out var location) || location.Length == 0 || Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
            {
                problems.Add($"{what}: external data location '{location}' must be a relative path inside the model's folder");
                return;
            }
            long offset = entries.TryGetValue("offset", out var o) ? long.Parse(o, System.Globalization.CultureInfo.InvariantCulture) : 0;
            long length = entries.TryGetValue("length", out var l) ? long.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : -1;
            if (length != bytes) problems.Add($"{what}: external length {length}, its type and shape need {bytes} bytes");
            var file = directory is null ? null : new FileInfo(Path.Combine(directory, location));
            if (file is null || !file.Exists) problems.Add($"{what}: external data file '{location}' does not exist");
            else if (offset + bytes > file.Length) problems.Add($"{what}: bytes {offset}..{offset + bytes} lie beyond the end of '{location}' ({file.Length} bytes)");
        }
        else if (tensor.RawData.Length != bytes)
            problems.Add($"{what} holds {tensor.RawData.Length} bytes, its type and shape need {bytes}");
    }
}
