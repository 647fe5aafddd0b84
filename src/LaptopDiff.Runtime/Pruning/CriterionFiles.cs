using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>Criterion files on disk (<see cref="CriterionFile"/>), as prune, additivity and compare read them.</summary>
public static class CriterionFiles
{
    /// <summary>
    /// The file at <paramref name="path"/>, parsed and checked against <paramref name="layout"/> (hash, units, params); its
    /// diagnostics (LD0014, LD0015) as a <see cref="SpecException"/>. Also returns the text's hash, which pruned specs record.
    /// </summary>
    public static (CriterionFile File, string Hash) Read(string path, UNetLayout layout)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"criterion file not found: {path}", path);
        var text = File.ReadAllText(path);
        var (file, diagnostics) = CriterionReader.Parse(path, text);
        if (file == null || diagnostics.Count > 0) throw new SpecException(diagnostics.ToList());
        var mismatch = file.CheckAgainst(layout);
        if (mismatch.Count > 0) throw new SpecException(mismatch.ToList());
        return (file, SpecHash.OfText(text));
    }
}
