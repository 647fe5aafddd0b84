using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>The files a sweep writes next to its criterion, all written atomically.</summary>
public static class SweepFiles
{
    /// <summary><c>CRITERION.json.partial</c>: the record while the sweep runs; a rerun resumes from it.</summary>
    public static string PartialPath(string criterionPath) => criterionPath + ".partial";

    /// <summary><c>CRITERION.sweep.json</c> (for <c>CRITERION.json</c>): the finished record, which <c>merge</c> reads.</summary>
    public static string RecordPath(string criterionPath) =>
        criterionPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? criterionPath[..^5] + ".sweep.json" : criterionPath + ".sweep.json";

    public static void WriteText(string path, string text) => AtomicFile.WriteText(path, text);

    public static SweepRecord ReadRecord(string path) => SweepRecordJson.Read(path, File.ReadAllText(path));

    /// <summary>Fails early (before hours of sweeping) when an output could not be written.</summary>
    public static void CheckOutputFolder(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
    }
}
