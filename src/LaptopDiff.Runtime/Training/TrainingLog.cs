using System.Text.Json;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// <c>log.jsonl</c>: one JSON object per optimizer step with <c>step</c>, <c>lr</c>, <c>grad_norm</c>,
/// <c>elapsed_s</c> and every loss term (averaged over the step's micro-batches). Appended and flushed
/// per step; on resume, lines past the checkpoint's step (written before a kill) are dropped first.
/// </summary>
public sealed class TrainingLog
{
    public const string FileName = "log.jsonl";

    public TrainingLog(string outputDir) => Path = System.IO.Path.Combine(outputDir, FileName);

    public string Path { get; }

    /// <summary>Starts a fresh log (a new run) or keeps the lines up to <paramref name="step"/> (a resumed one).</summary>
    public void Reset(int step)
    {
        var kept = File.Exists(Path) && step > 0
            ? File.ReadLines(Path).Where(l => l.Length > 0 && StepOf(l) is int s && s <= step).ToList()
            : [];
        AtomicFile.WriteText(Path, string.Concat(kept.Select(l => l + "\n")));
    }

    public void Append(int step, double lr, double gradNorm, double elapsedSeconds, IEnumerable<KeyValuePair<string, double>> terms)
    {
        var line = new Dictionary<string, object>
        {
            ["step"] = step,
            ["lr"] = lr,
            ["grad_norm"] = gradNorm,
            ["elapsed_s"] = Math.Round(elapsedSeconds, 4),
        };
        foreach (var (name, value) in terms) line[name] = value;
        File.AppendAllText(Path, JsonSerializer.Serialize(line) + "\n");
    }

    /// <summary>Every line's numbers by key (the plotting and tests' reader).</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, double>> Read(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return (IReadOnlyDictionary<string, double>)doc.RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.Number)
                .ToDictionary(p => p.Name, p => p.Value.GetDouble());
        }).ToList();

    private static int? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt32(out int v) ? v : null;
        }
        catch (JsonException) { return null; }          // a line cut by a kill
    }
}
