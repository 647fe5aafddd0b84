using System.Text.Json;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// What makes two runs the same run: kind, model structure hashes, data hash, initial weights and the
/// trajectory's options, as sorted string fields. A checkpoint resumes only under an equal identity;
/// the first differing field is named in the error.
/// </summary>
public sealed class RunIdentity
{
    private readonly SortedDictionary<string, string> _fields;

    public RunIdentity(IEnumerable<KeyValuePair<string, string>> fields) =>
        _fields = new SortedDictionary<string, string>(fields.ToDictionary(f => f.Key, f => f.Value), StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Fields => _fields;

    public string ToJson() => JsonSerializer.Serialize(_fields);

    public static RunIdentity FromJson(string json) =>
        new(JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? throw new JsonException("identity is null"));

    /// <summary>null when equal; otherwise a sentence naming the first difference.</summary>
    public string? Difference(RunIdentity other)
    {
        foreach (var key in _fields.Keys.Union(other._fields.Keys).OrderBy(k => k, StringComparer.Ordinal))
        {
            string mine = _fields.GetValueOrDefault(key) ?? "(none)", theirs = other._fields.GetValueOrDefault(key) ?? "(none)";
            if (mine != theirs) return $"{key} is {theirs} there but {mine} in this run";
        }
        return null;
    }
}
