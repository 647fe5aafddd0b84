using System.Reflection;
using Google.Protobuf;
using LaptopDiff.Runtime.Onnx.Proto;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;
using DataType = LaptopDiff.Runtime.Onnx.Proto.TensorProto.Types.DataType;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>What one export wrote.</summary>
/// <param name="DataPath">The external data file, or null when the weights are inside the model file.</param>
/// <param name="WeightBytes">Bytes of weight data (float32: 4 per parameter, float16: 2).</param>
public sealed record OnnxExportReport(string Path, string? DataPath, int Opset, int RequiredOpset, OnnxPrecision Precision,
    long ParamCount, long WeightBytes);

/// <summary>
/// Writes a built graph as an ONNX model file: <c>ir_version</c> of its opset, the default-domain opset import, producer,
/// metadata, and the weights read one at a time from their source, converted to the compute type. Weights over the
/// threshold go to external data per ONNX's convention (<c>location</c>, <c>offset</c>, <c>length</c> of each tensor in
/// <c>FILE.data</c>, offsets aligned to 4 KiB for memory mapping; tensors under 1 KiB stay inline). Both files are
/// written to temporaries and renamed, data first; the model is checked (<see cref="OnnxModelCheck"/>) before it is.
/// </summary>
internal static class OnnxModelWriter
{
    private const int InlineBelowBytes = 1024;
    private const int DataAlignment = 4096;

    public static OnnxExportReport Write(OnnxGraph graph, string path, OnnxExportOptions options, string description,
        IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = OnnxOpsets.IrVersionFor(options.Opset),
            ProducerName = "LaptopDiff",
            ProducerVersion = typeof(OnnxModelWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            DocString = description,
            Graph = graph.Proto,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

        var fullPath = System.IO.Path.GetFullPath(path);
        string dataPath = fullPath + ".data";
        int elementBytes = graph.Compute == DataType.Float16 ? 2 : 4;
        long weightBytes = graph.Weights.Sum(w => w.Numel * elementBytes);
        bool external = weightBytes > options.ExternalDataThresholdBytes;
        try
        {
            if (external) AtomicFile.Write(dataPath, stream => WriteWeights(graph, stream, System.IO.Path.GetFileName(dataPath)));
            else WriteWeights(graph, null, null);

            var problems = OnnxModelCheck.CheckStructure(model, System.IO.Path.GetDirectoryName(fullPath));
            if (problems.Count > 0)
                throw new InvalidOperationException($"the exported graph of {graph.Proto.Name} is not a valid ONNX model: {string.Join("; ", problems.Take(5))}");
            AtomicFile.Write(fullPath, stream => model.WriteTo(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightsException($"cannot write ONNX model '{fullPath}': {e.Message} Check that the folder exists and is writable.", e);
        }
        finally
        {
            graph.Proto.Initializer.Clear();   // the weights' bytes are written; do not keep them alive with the graph
        }
        if (!external && File.Exists(dataPath)) File.Delete(dataPath);   // a previous export's data would mislead
        return new OnnxExportReport(fullPath, external ? dataPath : null, options.Opset, graph.RequiredOpset, graph.Precision,
            graph.WeightParamCount, weightBytes);
    }

    /// <summary>Adds each weight to the graph: its bytes inline (no <paramref name="data"/>), or appended to <paramref name="data"/>.</summary>
    private static void WriteWeights(OnnxGraph graph, Stream? data, string? location)
    {
        var type = graph.Compute == DataType.Float16 ? ScalarType.Float16 : ScalarType.Float32;
        var constants = graph.Proto.Initializer.ToList();
        graph.Proto.Initializer.Clear();
        foreach (var weight in graph.Weights)
        {
            var proto = weight.Proto.Clone();
            using (var read = weight.Read())
            using (var converted = read.to_type(type))
            using (var contiguous = converted.contiguous())
            {
                var shape = contiguous.shape;
                if (!shape.SequenceEqual(proto.Dims))
                    throw new InvalidOperationException($"weight '{proto.Name}' is [{string.Join(",", shape)}], the graph declared [{string.Join(",", proto.Dims)}]");
                var bytes = contiguous.bytes;
                if (data is null || bytes.Length < InlineBelowBytes)
                    proto.RawData = ByteString.CopyFrom(bytes);
                else
                {
                    long pad = (DataAlignment - data.Position % DataAlignment) % DataAlignment;
                    if (pad > 0) data.Write(new byte[pad]);
                    long offset = data.Position;
                    data.Write(bytes);
                    proto.DataLocation = TensorProto.Types.DataLocation.External;
                    proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
                    proto.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                    proto.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                }
            }
            graph.Proto.Initializer.Add(proto);
        }
        graph.Proto.Initializer.AddRange(constants);
    }
}
