using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Weights;

/// <summary>Serialises tensors in the order given: header first (all sizes are known up front), then data.</summary>
internal static class SafetensorsWriter
{
    private const long ChunkBytes = 64L << 20;

    /// <summary>Checks names and dtypes and builds the padded header, before any file exists.</summary>
    public static byte[] BuildHeader(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<(string Name, string DType, IEnumerable<long> Shape, long ByteLength)>();
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__")
                throw new WeightsException($"cannot save '{path}': '{name}' is not a usable tensor name.");
            if (!names.Add(name))
                throw new WeightsException($"cannot save '{path}': tensor '{name}' is given twice.");
            if (!SafetensorsDType.TryGetName(tensor.dtype, out var dtype))
                throw new WeightsException($"cannot save '{path}': tensor '{name}' has dtype {tensor.dtype}, " +
                                           $"which safetensors cannot hold here (supported: {SafetensorsDType.Supported}). Convert it first.");
            entries.Add((name, dtype, tensor.shape, tensor.numel() * SafetensorsDType.ElementSize(tensor.dtype)));
        }
        return HeaderBytes(entries, metadata);
    }

    /// <summary>The padded header for entries laid out back to back in the order given.</summary>
    public static byte[] HeaderBytes(IEnumerable<(string Name, string DType, IEnumerable<long> Shape, long ByteLength)> entries,
        IReadOnlyDictionary<string, string>? metadata)
    {
        using var json = new MemoryStream();
        // Relaxed escaping keeps keys readable by eye; any JSON reader decodes either form.
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, byteLength) in entries)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", dtype);
                writer.WriteStartArray("shape");
                foreach (var d in shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + byteLength);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += byteLength;
            }
            writer.WriteEndObject();
        }

        // Pad with spaces so the data buffer starts 8-byte aligned, as the reference writer does.
        int padded = (int)((json.Length + 7) / 8 * 8);
        var header = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)padded);
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(header.AsSpan(8));
        header.AsSpan(8 + (int)json.Length).Fill((byte)' ');
        return header;
    }

    public static void WriteData(Stream stream, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var cpu = tensor.device_type == DeviceType.CPU ? tensor : tensor.cpu();
        var flat = cpu.contiguous().view(-1);
        long elementSize = SafetensorsDType.ElementSize(tensor.dtype);
        long perChunk = ChunkBytes / elementSize;
        long numel = flat.numel();
        for (long start = 0; start < numel; start += perChunk)
        {
            using var chunk = flat.narrow(0, start, Math.Min(perChunk, numel - start));
            stream.Write(chunk.bytes);
        }
    }
}
