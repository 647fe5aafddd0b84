using System.Text;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Weights;

/// <summary>A key the model and the file both have, with different shapes.</summary>
public sealed record ShapeMismatch(string Name, EquatableArray<long> Expected, EquatableArray<long> Found)
{
    public override string ToString() => $"{Name} expected {Shapes.Format(Expected)}, found {Shapes.Format(Found)}";
}

/// <summary>How a weights file's keys line up with the keys a model expects, grouped as diffusers does.</summary>
public sealed class WeightReport
{
    // Long lists (a wrong spec misses hundreds of keys) are capped; the counts stay exact.
    private const int ShownPerGroup = 10;

    internal WeightReport(string path, IReadOnlyList<TensorKey> missing, IReadOnlyList<TensorKey> unexpected,
        IReadOnlyList<ShapeMismatch> mismatched, int matched)
    {
        Path = path;
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
        Matched = matched;
    }

    public string Path { get; }
    /// <summary>Keys the model needs that the file lacks, with the model's shapes.</summary>
    public IReadOnlyList<TensorKey> Missing { get; }
    /// <summary>Keys in the file the model has no place for, with the file's shapes.</summary>
    public IReadOnlyList<TensorKey> Unexpected { get; }
    public IReadOnlyList<ShapeMismatch> Mismatched { get; }
    /// <summary>Keys present in both with equal shapes (the ones a load copies).</summary>
    public int Matched { get; }

    public bool IsMatch => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <summary>Compares by name and shape only; allocates no tensors.</summary>
    internal static WeightReport Compare(IEnumerable<TensorKey> expected, SafetensorsHeader header) =>
        Compare(expected, SafetensorsSet.Of(header));

    /// <summary>Against every tensor of a (possibly sharded) set; the report names the set's file or index.</summary>
    internal static WeightReport Compare(IEnumerable<TensorKey> expected, SafetensorsSet weights)
    {
        var missing = new List<TensorKey>();
        var mismatched = new List<ShapeMismatch>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int matched = 0;
        foreach (var key in expected)
        {
            names.Add(key.Name);
            var entry = weights.Find(key.Name);
            if (entry is null) missing.Add(key);
            else if (entry.Shape != key.Shape) mismatched.Add(new ShapeMismatch(key.Name, key.Shape, entry.Shape));
            else matched++;
        }
        var unexpected = weights.Entries.Where(e => !names.Contains(e.Name)).Select(e => e.Key).ToList();
        return new WeightReport(weights.Path, missing, unexpected, mismatched, matched);
    }

    public void ThrowIfMismatched()
    {
        if (!IsMatch) throw new WeightsException(Describe());
    }

    public string Describe()
    {
        if (IsMatch) return $"weights file '{Path}' matches the model ({Matched} tensors).";
        var text = new StringBuilder()
            .Append($"weights file '{Path}' does not match the model: ")
            .Append($"{Missing.Count} missing, {Unexpected.Count} unexpected, {Mismatched.Count} mis-shaped keys.");
        AppendGroup(text, "missing from the file (the model needs them)", Missing);
        AppendGroup(text, "unexpected in the file (the model has no such key)", Unexpected);
        AppendGroup(text, "mis-shaped (the model expects one shape, the file holds another)", Mismatched);
        text.AppendLine().Append(
            "Check that the file was saved from this model's spec (a pruned model has no keys for its removed units), " +
            "or load non-strictly to skip these keys.");
        return text.ToString();
    }

    private static void AppendGroup<T>(StringBuilder text, string title, IReadOnlyList<T> items)
    {
        if (items.Count == 0) return;
        text.AppendLine().Append($"  {title}, {items.Count}:");
        foreach (var item in items.Take(ShownPerGroup)) text.AppendLine().Append($"    {item}");
        if (items.Count > ShownPerGroup) text.AppendLine().Append($"    ... and {items.Count - ShownPerGroup} more");
    }
}
