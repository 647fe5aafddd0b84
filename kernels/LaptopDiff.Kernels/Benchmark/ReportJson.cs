using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LaptopDiff.Kernels;

/// <summary>Source-generated JSON for the reports: works where reflection-based serialisation is off
/// (trimmed, AOT and file-based apps).</summary>
[JsonSerializable(typeof(KernelBenchmarkReport))]
[JsonSerializable(typeof(DeviceCheckReport))]
internal sealed partial class ReportJson : JsonSerializerContext
{
    /// <summary>Indented, and shape strings keep their '+' (the default encoder escapes it).</summary>
    public static JsonSerializerOptions Relaxed { get; } = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = Default,
    };
}
