using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// Reads and writes <c>.safetensors</c> files. Every problem with a file, corrupt headers included,
/// surfaces as a <see cref="WeightsException"/> naming the file and the tensor.
/// </summary>
public static class SafetensorsFile
{
    /// <summary>Reads and validates the header only; no tensor data is read.</summary>
    public static SafetensorsHeader ReadHeader(string path) => SafetensorsHeaderReader.Read(path);

    /// <summary>
    /// The header of a LaptopDiff file of one kind, told by its <c>format</c> metadata; another file is a
    /// <see cref="WeightsException"/> saying it is not <paramref name="what"/> (plus <paramref name="hint"/>, e.g. how to make one).
    /// </summary>
    public static SafetensorsHeader ReadHeaderOfFormat(string path, string format, string what, string hint = "")
    {
        var header = ReadHeader(path);
        if (!header.Metadata.TryGetValue("format", out var found) || found != format)
            throw new WeightsException($"'{path}' is not {what} (metadata format '{found ?? "(none)"}', expected '{format}'){hint}");
        return header;
    }

    /// <summary>
    /// Loads every tensor onto the CPU, in header order. Tensors keep the file's dtype unless
    /// <paramref name="convertFloatsTo"/> is given: then floating-point tensors are converted to it
    /// (integer and bool tensors never are).
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path, ScalarType? convertFloatsTo = null)
    {
        if (convertFloatsTo is { } to && !is_floating_point(to))
            throw new ArgumentException($"{to} is not a floating-point type", nameof(convertFloatsTo));

        var header = ReadHeader(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var reader = new SafetensorsDataReader(header);
            foreach (var entry in header.Entries)
            {
                var tensor = reader.Read(entry);
                if (convertFloatsTo is { } type && is_floating_point(entry.DType) && entry.DType != type)
                {
                    var converted = tensor.to_type(type);
                    tensor.Dispose();
                    tensor = converted;
                }
                result.Add(entry.Name, tensor);
            }
            return result;
        }
        catch
        {
            foreach (var tensor in result.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes tensors in the given order, atomically: on any failure no file (and no partial file) is
    /// left at <paramref name="path"/>, and an existing file there is unchanged.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = SafetensorsWriter.BuildHeader(path, list, metadata);
        try
        {
            AtomicFile.Write(path, stream =>
            {
                stream.Write(header);
                foreach (var (_, tensor) in list) SafetensorsWriter.WriteData(stream, tensor);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightsException($"cannot write weights file '{path}': {e.Message} Check that the folder exists and is writable.", e);
        }
    }

    /// <summary>
    /// Writes a new file holding some of <paramref name="source"/>'s tensors, in the order given, copied
    /// byte for byte (same dtypes, no tensor materialised), atomically; <paramref name="rename"/> gives each its
    /// name in the new file (default: the same).
    /// </summary>
    public static void SaveSubset(string path, SafetensorsHeader source, IReadOnlyList<SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string>? metadata = null, Func<string, string>? rename = null)
    {
        var header = SafetensorsWriter.HeaderBytes(
            entries.Select(e => (rename?.Invoke(e.Name) ?? e.Name, SafetensorsDType.NameOf(e.DType), (IEnumerable<long>)e.Shape, e.ByteLength)), metadata);
        try
        {
            using var input = new FileStream(source.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            AtomicFile.Write(path, stream =>
            {
                stream.Write(header);
                var buffer = new byte[4 << 20];
                foreach (var entry in entries)
                {
                    input.Position = source.DataStart + entry.Begin;
                    long left = entry.ByteLength;
                    while (left > 0)
                    {
                        int n = input.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                        if (n <= 0) throw new WeightsException($"'{source.Path}' ended inside tensor '{entry.Name}'; the file is truncated.");
                        stream.Write(buffer, 0, n);
                        left -= n;
                    }
                }
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightsException($"cannot write weights file '{path}': {e.Message} Check that the folder exists and is writable.", e);
        }
    }
}
