using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>
/// The student's initial weights: the teacher's tensors minus the removed units' keys, under the same
/// names, in the teacher's order and dtype. Copied byte for byte from the teacher's file in chunks (no
/// model is built and no tensor is materialised), written atomically.
/// </summary>
public static class StudentWeights
{
    /// <summary>Checks the teacher file against the full model's keys (names and shapes) before anything is written.</summary>
    public static SafetensorsHeader CheckTeacher(string teacherPath, UNetLayout baseLayout)
    {
        var header = SafetensorsFile.ReadHeader(teacherPath);
        WeightLoader.CheckAgainstKeys(baseLayout.LiveKeys, header).ThrowIfMismatched();
        return header;
    }

    /// <summary>The teacher's entries the student keeps: exactly the pruned layout's live keys.</summary>
    public static IReadOnlyList<SafetensorsEntry> Kept(SafetensorsHeader teacher, UNetLayout prunedLayout)
    {
        var live = new HashSet<string>(prunedLayout.LiveKeys.Select(k => k.Name), StringComparer.Ordinal);
        var kept = teacher.Entries.Where(e => live.Contains(e.Name)).ToList();
        if (kept.Count != live.Count)
            throw new WeightsException($"'{teacher.Path}' lacks {live.Count - kept.Count} of the student's tensors; it does not hold {prunedLayout.Spec.Name}'s teacher.");
        return kept;
    }

    /// <summary>The kept tensors copied from the teacher's file; its metadata plus <paramref name="extraMetadata"/>, sorted.</summary>
    public static void Write(string path, SafetensorsHeader teacher, IReadOnlyList<SafetensorsEntry> kept, IReadOnlyDictionary<string, string> extraMetadata)
    {
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in teacher.Metadata) metadata[k] = v;
        foreach (var (k, v) in extraMetadata) metadata[k] = v;
        SafetensorsFile.SaveSubset(path, teacher, kept, metadata);
    }
}
