namespace LaptopDiff.Runtime.Benchmarks;

/// <summary>
/// The process's resident memory from <c>/proc/self/status</c> (Linux): the current resident set (VmRSS) and its peak
/// (VmHWM), which <see cref="ResetPeak"/> sets back to the current size (writing 5 to <c>/proc/self/clear_refs</c>),
/// so a benchmark can report the peak of one phase. Elsewhere every figure is null.
/// </summary>
public static class ResidentMemory
{
    private const string Status = "/proc/self/status";

    /// <summary>Peak resident bytes since the process started or since the last successful <see cref="ResetPeak"/>.</summary>
    public static long? PeakBytes() => Read("VmHWM:");

    public static long? CurrentBytes() => Read("VmRSS:");

    /// <summary>Starts a new peak at the current resident size; false where the kernel does not allow it (the peak then stays the process's).</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    private static long? Read(string key)
    {
        if (!File.Exists(Status)) return null;
        foreach (var line in File.ReadLines(Status))
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line[key.Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);   // "\t  123456 kB"
                return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        return null;
    }
}
