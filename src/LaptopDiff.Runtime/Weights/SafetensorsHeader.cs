using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Weights;

/// <summary>One tensor of a safetensors file; offsets are relative to the start of the data buffer.</summary>
public sealed record SafetensorsEntry(string Name, ScalarType DType, EquatableArray<long> Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public TensorKey Key => new(Name, Shape);
    public override string ToString() => $"{Name} {SafetensorsDType.NameOf(DType)} {Shapes.Format(Shape)}";
}

/// <summary>
/// A validated safetensors header: every entry's dtype, shape and offsets agree with each other and
/// with the file's length, so reading data afterwards cannot run past the file.
/// </summary>
public sealed class SafetensorsHeader
{
    private readonly Dictionary<string, SafetensorsEntry> _byName;

    internal SafetensorsHeader(string path, long fileLength, long dataStart, IReadOnlyList<SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        FileLength = fileLength;
        DataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    public string Path { get; }
    public long FileLength { get; }
    /// <summary>Absolute file offset of the data buffer (8 + header length).</summary>
    public long DataStart { get; }
    /// <summary>Entries in header order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }
    /// <summary>The <c>__metadata__</c> string map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public SafetensorsEntry? Find(string name) => _byName.GetValueOrDefault(name);
}
