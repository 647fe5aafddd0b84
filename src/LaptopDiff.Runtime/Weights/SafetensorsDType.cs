using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Weights;

/// <summary>The safetensors dtype names this runtime reads and writes, and their TorchSharp types.</summary>
public static class SafetensorsDType
{
    private static readonly (string Name, ScalarType Type)[] Table =
    [
        ("F64", ScalarType.Float64), ("F32", ScalarType.Float32), ("F16", ScalarType.Float16),
        ("BF16", ScalarType.BFloat16), ("I64", ScalarType.Int64), ("I32", ScalarType.Int32),
        ("I16", ScalarType.Int16), ("I8", ScalarType.Int8), ("U8", ScalarType.Byte), ("BOOL", ScalarType.Bool),
    ];

    /// <summary>The names accepted in a header, for error messages.</summary>
    public static string Supported => string.Join(", ", Table.Select(e => e.Name));

    public static bool TryParse(string name, out ScalarType type)
    {
        foreach (var e in Table)
            if (e.Name == name) { type = e.Type; return true; }
        type = default;
        return false;
    }

    public static bool TryGetName(ScalarType type, out string name)
    {
        foreach (var e in Table)
            if (e.Type == type) { name = e.Name; return true; }
        name = "";
        return false;
    }

    public static string NameOf(ScalarType type) => TryGetName(type, out var name) ? name : type.ToString();

    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a safetensors dtype"),
    };
}
