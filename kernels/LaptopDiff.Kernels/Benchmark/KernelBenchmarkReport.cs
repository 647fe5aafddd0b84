using System.Text.Json;
using System.Text.Json.Serialization;

namespace LaptopDiff.Kernels;

/// <summary>One kernel on one shape set and path, against the unfused TorchSharp composition.</summary>
public sealed record KernelBenchmarkResult(
    [property: JsonPropertyName("kernel")] string Kernel,
    [property: JsonPropertyName("shape")] string Shape,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("ms")] double Ms,
    [property: JsonPropertyName("baseline_ms")] double BaselineMs,
    [property: JsonPropertyName("speedup")] double Speedup,
    [property: JsonPropertyName("gbps")] double Gbps);

/// <summary>
/// The benchmark's result. <see cref="CopyGbps"/> is the measured memory-copy bandwidth (bytes read +
/// bytes written per second, STREAM-copy convention): the ceiling for <see cref="KernelBenchmarkResult.Gbps"/>,
/// which counts the bytes each fused kernel must move at least once (same convention).
/// </summary>
public sealed record KernelBenchmarkReport(
    [property: JsonPropertyName("copy_gbps")] double CopyGbps,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("results")] IReadOnlyList<KernelBenchmarkResult> Results,
    [property: JsonPropertyName("notes")] IReadOnlyList<string> Notes)
{
    /// <summary>One JSON object: copy_gbps, threads, results [{kernel, shape, path, ms, baseline_ms, speedup, gbps}], notes.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Relaxed);

    /// <summary>A plain-text table for terminals and logs.</summary>
    public string ToTable()
    {
        var lines = new List<string>
        {
            $"copy bandwidth: {CopyGbps:F1} GB/s (read+write), {Threads} thread(s)",
            $"{"kernel",-30} {"path",-11} {"ms",9} {"baseline",9} {"speedup",8} {"GB/s",7}  shape",
        };
        lines.AddRange(Results.Select(r =>
            $"{r.Kernel,-30} {r.Path,-11} {r.Ms,9:F3} {r.BaselineMs,9:F3} {r.Speedup,7:F2}x {r.Gbps,7:F1}  {r.Shape}"));
        lines.AddRange(Notes.Select(n => "note: " + n));
        return string.Join(Environment.NewLine, lines);
    }
}
