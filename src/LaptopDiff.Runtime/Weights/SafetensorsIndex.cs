using System.Text.Json;

namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// A sharded checkpoint's index (<c>*.safetensors.index.json</c>, as diffusers and transformers write it):
/// <c>{"metadata": {...}, "weight_map": {"tensor name": "shard file name", ...}}</c>, shards beside the index.
/// </summary>
internal sealed class SafetensorsIndex
{
    private const string Redo = "The index and its shards do not belong together: download or export them again.";

    private readonly string _path;
    private readonly List<KeyValuePair<string, string>> _weightMap;

    private SafetensorsIndex(string path, List<KeyValuePair<string, string>> weightMap, IReadOnlyList<string> shardFiles)
    {
        _path = path;
        _weightMap = weightMap;
        ShardFiles = shardFiles;
    }

    /// <summary>Full paths of the shards the weight map names, sorted by file name, each checked to exist.</summary>
    public IReadOnlyList<string> ShardFiles { get; }

    public static SafetensorsIndex Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightsException($"cannot read sharded weights index '{path}': {e.Message}", e);
        }

        JsonDocument document;
        try { document = JsonDocument.Parse(text); }
        catch (JsonException e)
        {
            throw new WeightsException($"sharded weights index '{path}' is not valid JSON ({e.Message}). " +
                                       "The file is corrupt or incomplete: download or export it again.", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new WeightsException($"sharded weights index '{path}' has no \"weight_map\" object of tensor names to shard files.");

            var weightMap = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in map.EnumerateObject())
            {
                // JsonDocument keeps duplicate properties: a tensor listed twice would be ambiguous.
                if (!seen.Add(item.Name))
                    throw new WeightsException($"sharded weights index '{path}' lists tensor '{item.Name}' twice in its weight_map. {Redo}");
                if (item.Value.ValueKind != JsonValueKind.String || item.Value.GetString() is not { Length: > 0 } shard)
                    throw new WeightsException($"sharded weights index '{path}': weight_map entry '{item.Name}' is {item.Value.GetRawText()}, expected a shard file name.");
                weightMap.Add(KeyValuePair.Create(item.Name, shard));
            }
            if (weightMap.Count == 0)
                throw new WeightsException($"sharded weights index '{path}' has an empty weight_map: it names no tensors. {Redo}");

            return new SafetensorsIndex(path, weightMap, ShardPaths(path, weightMap));
        }
    }

    private static List<string> ShardPaths(string path, List<KeyValuePair<string, string>> weightMap)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var result = new List<string>();
        foreach (var shard in weightMap.Select(p => p.Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(shard) != shard || shard is "." or "..")
                throw new WeightsException($"sharded weights index '{path}' names shard '{shard}', which is not a plain file name; shards must lie beside the index.");
            if (!shard.EndsWith(".safetensors", StringComparison.Ordinal))
                throw new WeightsException($"sharded weights index '{path}' names shard '{shard}', which is not a .safetensors file. " +
                                           PickledWeights.Advice);
            var full = Path.Combine(folder, shard);
            if (!File.Exists(full))
            {
                var keys = weightMap.Where(p => p.Value == shard).ToList();
                throw new WeightsException($"sharded weights index '{path}' maps {keys.Count} tensors (first '{keys[0].Key}') to shard '{shard}', " +
                                           $"which does not exist in '{folder}'. Download the missing shard.");
            }
            result.Add(full);
        }
        return result;
    }

    /// <summary>Checks the weight map against where each tensor really is (tensor name to shard file name).</summary>
    public void CheckAgainst(IReadOnlyDictionary<string, string> actual)
    {
        foreach (var (name, shard) in _weightMap)
        {
            if (!actual.TryGetValue(name, out var found))
                throw new WeightsException($"sharded weights index '{_path}' maps tensor '{name}' to shard '{shard}', but no shard holds it. {Redo}");
            if (found != shard)
                throw new WeightsException($"sharded weights index '{_path}' maps tensor '{name}' to shard '{shard}', but it is in shard '{found}'. {Redo}");
        }
        var listed = _weightMap.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, shard) in actual)
            if (!listed.Contains(name))
                throw new WeightsException($"shard '{shard}' holds tensor '{name}', which the weight_map of '{_path}' does not list. {Redo}");
    }
}
