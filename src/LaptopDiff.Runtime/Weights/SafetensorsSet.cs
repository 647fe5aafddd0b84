namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// One state dict stored in one safetensors file or sharded over several (validated headers only, no tensor
/// data read). Every tensor name lives in exactly one file.
/// </summary>
public sealed class SafetensorsSet
{
    private readonly Dictionary<string, (SafetensorsHeader File, SafetensorsEntry Entry)> _byName;

    private SafetensorsSet(string path, bool isSharded, IReadOnlyList<SafetensorsHeader> files,
        Dictionary<string, (SafetensorsHeader, SafetensorsEntry)> byName)
    {
        Path = path;
        IsSharded = isSharded;
        Files = files;
        _byName = byName;
        Entries = files.SelectMany(f => f.Entries).ToList();
        DTypes = Entries.GroupBy(e => SafetensorsDType.NameOf(e.DType))
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    /// <summary>What messages name: the file itself, or the index file of a sharded set.</summary>
    public string Path { get; }
    /// <summary>The files, in the order tensors are read (shards sorted by file name).</summary>
    public IReadOnlyList<SafetensorsHeader> Files { get; }
    /// <summary>Every tensor of every file, file by file, each in header order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }
    /// <summary>Tensor count per safetensors dtype name (<c>F16</c>, <c>F32</c>, ...), from the headers.</summary>
    public IReadOnlyDictionary<string, int> DTypes { get; }
    public bool IsSharded { get; }
    public long ByteLength => Entries.Sum(e => e.ByteLength);

    public SafetensorsEntry? Find(string name) => _byName.TryGetValue(name, out var found) ? found.Entry : null;

    /// <summary>The file that holds tensor <paramref name="name"/> (which must be in the set).</summary>
    public SafetensorsHeader FileOf(string name) => _byName[name].File;

    public static SafetensorsSet Single(string path) => Of(SafetensorsFile.ReadHeader(path));

    public static SafetensorsSet Of(SafetensorsHeader header) =>
        new(header.Path, isSharded: false, [header], header.Entries.ToDictionary(e => e.Name, e => (header, e), StringComparer.Ordinal));

    /// <summary>
    /// The shards a <c>*.safetensors.index.json</c> names, checked against it: every shard exists, every
    /// tensor is in the shard its <c>weight_map</c> says, no tensor is in two shards, no shard holds an unlisted one.
    /// </summary>
    public static SafetensorsSet Sharded(string indexPath)
    {
        var index = SafetensorsIndex.Read(indexPath);
        var files = index.ShardFiles.Select(SafetensorsFile.ReadHeader).ToList();
        var byName = new Dictionary<string, (SafetensorsHeader, SafetensorsEntry)>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (var entry in file.Entries)
            {
                if (byName.TryGetValue(entry.Name, out var first))
                    throw new WeightsException(
                        $"sharded weights '{indexPath}': tensor '{entry.Name}' is stored twice, in '{FileName(first.Item1)}' " +
                        $"and in '{FileName(file)}'; it must be in one shard only. The shards are inconsistent: download or export them again.");
                byName.Add(entry.Name, (file, entry));
            }
        index.CheckAgainst(byName.ToDictionary(p => p.Key, p => FileName(p.Value.Item1), StringComparer.Ordinal));
        return new SafetensorsSet(indexPath, isSharded: true, files, byName);
    }

    private static string FileName(SafetensorsHeader file) => System.IO.Path.GetFileName(file.Path);
}
