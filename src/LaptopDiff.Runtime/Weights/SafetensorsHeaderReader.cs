using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// Reads and fully validates a safetensors header before any tensor data is touched: the file layout is
/// <c>u64 little-endian N | N bytes of UTF-8 JSON | data buffer</c>, entry offsets relative to the buffer.
/// </summary>
internal static class SafetensorsHeaderReader
{
    // The reference implementation's limit; a larger length field is corruption, not a real header.
    private const long MaxHeaderLength = 100_000_000;
    private const string MetadataKey = "__metadata__";

    public static SafetensorsHeader Read(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8)
                throw Corrupt(path, $"it is {fileLength} bytes long, shorter than the 8-byte header length field (truncated?)");

            Span<byte> lengthField = stackalloc byte[8];
            RandomAccess.Read(handle, lengthField, 0);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthField);
            if (headerLength > (ulong)(fileLength - 8))
                throw Corrupt(path, $"the header length field says {headerLength} bytes but only {fileLength - 8} bytes follow it (truncated?)");
            if (headerLength > MaxHeaderLength)
                throw Corrupt(path, $"the header length {headerLength} exceeds the {MaxHeaderLength}-byte limit");

            var json = new byte[headerLength];
            if (RandomAccess.Read(handle, json, 8) != json.Length)
                throw Corrupt(path, "the file ended while reading the header");
            return Parse(path, fileLength, json);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new WeightsException($"weights file '{path}' does not exist: check the path.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightsException($"cannot read weights file '{path}': {e.Message}", e);
        }
    }

    private static SafetensorsHeader Parse(string path, long fileLength, byte[] json)
    {
        long dataStart = 8 + json.Length;
        long bufferLength = fileLength - dataStart;

        // JsonDocument only transcodes strings when asked for them, so bad UTF-8 would surface late and as another exception type.
        if (!Utf8.IsValid(json))
            throw Corrupt(path, "the header is not valid UTF-8");
        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException e) { throw Corrupt(path, $"the header is not valid JSON ({e.Message})"); }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Corrupt(path, $"the header is a JSON {Kind(document.RootElement)}, expected an object of tensors");

            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            // JsonDocument keeps duplicate properties; a duplicated key would make the file ambiguous.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Corrupt(path, $"key '{property.Name}' appears twice in the header");
                if (property.Name == MetadataKey)
                    ReadMetadata(path, property.Value, metadata);
                else
                    entries.Add(ReadEntry(path, property.Name, property.Value, bufferLength));
            }
            CheckCoverage(path, entries, bufferLength);
            return new SafetensorsHeader(path, fileLength, dataStart, entries, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, $"'{MetadataKey}' is a JSON {Kind(value)}, expected an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Corrupt(path, $"'{MetadataKey}' entry '{item.Name}' is a JSON {Kind(item.Value)}, expected a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafetensorsEntry ReadEntry(string path, string name, JsonElement value, long bufferLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, $"tensor '{name}' is a JSON {Kind(value)}, expected an object with dtype, shape and data_offsets");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Corrupt(path, $"tensor '{name}' has no string 'dtype'");
        string dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDType.TryParse(dtypeName, out var dtype))
            throw new WeightsException(
                $"weights file '{path}': tensor '{name}' has dtype '{dtypeName}', which is not supported " +
                $"(supported: {SafetensorsDType.Supported}). Convert the file to one of these dtypes.");

        var shape = ReadNaturals(path, name, value, "shape", expectedCount: null);
        var offsets = ReadNaturals(path, name, value, "data_offsets", expectedCount: 2);
        long begin = offsets[0], end = offsets[1];
        string offsetsText = $"data_offsets [{begin},{end}]";
        if (begin > end)
            throw Corrupt(path, $"tensor '{name}' has {offsetsText} that end before they begin");
        if (end > bufferLength)
            throw Corrupt(path, $"tensor '{name}' has {offsetsText} beyond the end of the data buffer " +
                                $"({bufferLength} bytes; the file is truncated or its header is wrong)");

        long expectedBytes;
        try { expectedBytes = checked(shape.Aggregate(1L, (a, d) => a * d) * SafetensorsDType.ElementSize(dtype)); }
        catch (OverflowException) { throw Corrupt(path, $"tensor '{name}' has a shape {Shapes.Format(shape)} too large to address"); }
        if (end - begin != expectedBytes)
            throw Corrupt(path, $"tensor '{name}' is {dtypeName} {Shapes.Format(shape)}, which needs {expectedBytes} bytes, " +
                                $"but its {offsetsText} span {end - begin} bytes");

        return new SafetensorsEntry(name, dtype, shape.ToEquatableArray(), begin, end);
    }

    private static long[] ReadNaturals(string path, string name, JsonElement value, string field, int? expectedCount)
    {
        string expected = expectedCount is { } n ? $"an array of {n} non-negative integers" : "an array of non-negative integers";
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw Corrupt(path, $"tensor '{name}' has no '{field}' array");
        if (expectedCount is { } count && array.GetArrayLength() != count)
            throw Corrupt(path, $"tensor '{name}' has '{field}' {array.GetRawText()}, expected {expected}");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                throw Corrupt(path, $"tensor '{name}' has '{field}' {array.GetRawText()}, expected {expected}");
            result[i++] = v;
        }
        return result;
    }

    /// <summary>Like the reference implementation: the entries tile the data buffer exactly, no overlaps, no holes.</summary>
    private static void CheckCoverage(string path, List<SafetensorsEntry> entries, long bufferLength)
    {
        long covered = 0;
        SafetensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin < covered)
                throw Corrupt(path, $"tensors '{previous!.Name}' [{previous.Begin},{previous.End}] and " +
                                    $"'{entry.Name}' [{entry.Begin},{entry.End}] overlap in the data buffer");
            if (entry.Begin > covered)
                throw Corrupt(path, $"data bytes [{covered},{entry.Begin}) before tensor '{entry.Name}' belong to no tensor");
            covered = entry.End;
            previous = entry;
        }
        if (covered != bufferLength)
            throw Corrupt(path, $"the data buffer has {bufferLength - covered} bytes after the last tensor that belong to no tensor");
    }

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    private static WeightsException Corrupt(string path, string problem) =>
        new($"weights file '{path}' is not a valid safetensors file: {problem}. " +
            "The file is corrupt or incomplete: download or export it again.");
}
