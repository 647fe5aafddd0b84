using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>
/// One pruned model to write: its spec (the overlay's text, and the layout it loads as) and, with teacher weights, where
/// the student's weights go and the metadata they record.
/// </summary>
public sealed record PrunedOutput(string SpecPath, string Yaml, UNetLayout Layout, string? StudentPath, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The one writer of pruned outputs: every check first (spec names, no output over an input or over another output,
/// folders, the teacher holding each student's tensors), then the specs, then the weights; a failure removes the files
/// this call created, so a run writes all of its outputs or none that were not there before.
/// </summary>
public static class PrunedOutputs
{
    /// <summary>Writes every output; returns each student's tensor count (0 without teacher weights).</summary>
    /// <param name="basePath">The full model's spec, which no output may replace.</param>
    /// <param name="teacher">The teacher's weights header (<see cref="StudentWeights.CheckTeacher"/>), or null to write specs only.</param>
    public static IReadOnlyList<int> Write(IReadOnlyList<PrunedOutput> outputs, string basePath, SafetensorsHeader? teacher)
    {
        // 1. check everything
        var kept = outputs.Select(o => Check(o, basePath, teacher)).ToList();
        var duplicate = outputs.SelectMany(o => new[] { o.SpecPath, o.StudentPath }).OfType<string>()
            .GroupBy(p => p, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
            throw new InputException($"two pruned models would write {duplicate.Key} (ratios are named by their truncated percent); give ratios with distinct percents.",
                nameof(PruneRequest.Output));
        foreach (var path in outputs.SelectMany(o => new[] { o.SpecPath, o.StudentPath }).OfType<string>())
        {
            var dir = Path.GetDirectoryName(path);
            if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
        }

        // 2. write: specs, then weights; a failure removes what this call created
        var created = new List<string>();
        try
        {
            foreach (var o in outputs) Create(o.SpecPath, created, () => AtomicFile.WriteText(o.SpecPath, o.Yaml));
            for (int i = 0; i < outputs.Count; i++)
            {
                var o = outputs[i];
                if (o.StudentPath != null) Create(o.StudentPath, created, () => StudentWeights.Write(o.StudentPath, teacher!, kept[i]!, o.Metadata));
            }
        }
        catch
        {
            foreach (var f in created)
                try { File.Delete(f); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }
        return kept.Select(k => k?.Count ?? 0).ToList();
    }

    private static IReadOnlyList<SafetensorsEntry>? Check(PrunedOutput o, string basePath, SafetensorsHeader? teacher)
    {
        if (!o.SpecPath.EndsWith(".unet.yaml", StringComparison.OrdinalIgnoreCase))
            throw new InputException($"the pruned spec {o.SpecPath} must end in .unet.yaml (the generator and SpecFiles pick specs up by that extension).",
                nameof(PruneRequest.Output));
        if (SamePath(o.SpecPath, basePath))
            throw new InputException($"the pruned spec {o.SpecPath} is the base spec itself; choose another file.", nameof(PruneRequest.Output));
        if (o.StudentPath == null || teacher == null) return null;
        if (SamePath(o.StudentPath, teacher.Path))
            throw new InputException($"the student's weights {o.StudentPath} would replace the teacher's file; choose another file.", nameof(PruneRequest.StudentWeights));
        return StudentWeights.Kept(teacher, o.Layout);
    }

    private static void Create(string path, List<string> created, Action write)
    {
        bool existed = File.Exists(path);
        write();
        if (!existed) created.Add(path);
    }

    private static bool SamePath(string a, string b) => string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.OrdinalIgnoreCase);
}
