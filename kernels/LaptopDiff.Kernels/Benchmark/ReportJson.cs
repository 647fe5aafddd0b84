using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LaptopDiff.Kernels;

/// <summary>Source-generated JSON for the reports: works where reflection-based serialisation is off
/// (trimmed, AOT and file-based apps).</summary>
[JsonSerializable(typeof(KernelBenchmarkReport))]
internal sealed partial class ReportJson : JsonSerializerContext
{
    private static JsonSerializerOptions? _relaxed;

    /// <summary>Indented, and shape strings keep their '+' (the default encoder escapes it). Built on
    /// first use: a static initializer here could run before the generated <c>Default</c> exists.</summary>
    public static JsonSerializerOptions Relaxed => _relaxed ??= new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = Default,
    };
}
