using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LaptopDiff.Kernels.CudaCheck;

/// <summary>Source-generated JSON for the check's report: the published check runs trimmed and self-contained.</summary>
[JsonSerializable(typeof(DeviceCheckReport))]
internal sealed partial class CheckJson : JsonSerializerContext
{
    private static JsonSerializerOptions? _relaxed;

    /// <summary>Indented, and shape strings keep their '+'. Built on first use, after the generated <c>Default</c> exists.</summary>
    public static JsonSerializerOptions Relaxed => _relaxed ??= new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = Default,
    };
}
