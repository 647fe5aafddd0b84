using System.Text.Json;
using System.Text.Json.Serialization;

namespace LaptopDiff.Kernels.CudaCheck;

public sealed record DeviceCheckResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("max_relative_error")] double MaxRelativeError,
    [property: JsonPropertyName("tolerance")] double Tolerance)
{
    [JsonPropertyName("passed")]
    public bool Passed => MaxRelativeError <= Tolerance;
}

/// <summary>A kernel timed with its data already on the device (no host copies).</summary>
public sealed record DeviceTiming(
    [property: JsonPropertyName("kernel")] string Kernel,
    [property: JsonPropertyName("shape")] string Shape,
    [property: JsonPropertyName("ms")] double Ms,
    [property: JsonPropertyName("gbps")] double Gbps);

public sealed record DeviceCheckReport(
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("device_copy_gbps")] double DeviceCopyGbps,
    [property: JsonPropertyName("checks")] IReadOnlyList<DeviceCheckResult> Checks,
    [property: JsonPropertyName("device_timings")] IReadOnlyList<DeviceTiming> Timings,
    [property: JsonPropertyName("benchmark")] KernelBenchmarkReport? Benchmark,
    [property: JsonPropertyName("notes")] IReadOnlyList<string> Notes)
{
    [JsonPropertyName("passed")]
    public bool Passed => Checks.Count > 0 && Checks.All(c => c.Passed);

    public string ToJson() => JsonSerializer.Serialize(this, CheckJson.Relaxed);

    public string ToText()
    {
        var lines = new List<string> { $"device: {Device} (seed {Seed})", $"device copy bandwidth: {DeviceCopyGbps:F1} GB/s (read+write)" };
        lines.AddRange(Checks.Select(c => $"{(c.Passed ? "PASS" : "FAIL")}  {c.Name}: max relative error {c.MaxRelativeError:E2} (tolerance {c.Tolerance:E0})"));
        lines.AddRange(Timings.Select(t => $"on-device {t.Kernel,-30} {t.Ms,9:F3} ms {t.Gbps,8:F1} GB/s  {t.Shape}"));
        if (Benchmark is not null) lines.Add(Benchmark.ToTable());
        lines.AddRange(Notes.Select(n => "note: " + n));
        lines.Add(Passed ? "RESULT: all checks passed" : "RESULT: FAILED");
        return string.Join(Environment.NewLine, lines);
    }
}
