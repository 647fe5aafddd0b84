using System.Text.Json;
using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Diffusers;

namespace LaptopDiff.Runtime.Schedulers;

/// <summary>
/// A pipeline folder's <c>scheduler/scheduler_config.json</c>: its class and every key as written.
/// <see cref="For"/> derives what diffusers' <c>TargetClass.from_config(config)</c> gives, so a folder that ships
/// PNDMScheduler (SD-1.5) samples with DDIM or Euler exactly as diffusers would.
/// </summary>
public sealed class SchedulerConfig
{
    public const string FileName = "scheduler_config.json";
    private readonly JsonObject _entries;

    private SchedulerConfig(string path, JsonObject entries, string? className, IReadOnlySet<string> usedDefaults)
    {
        Path = path;
        _entries = entries;
        ClassName = className;
        UsedDefaults = usedDefaults;
    }

    /// <summary>The file, for messages.</summary>
    public string Path { get; }

    /// <summary><c>_class_name</c>, e.g. PNDMScheduler; null when the file has none.</summary>
    public string? ClassName { get; }

    /// <summary>The folder's own class when LaptopDiff implements it.</summary>
    public SchedulerKind? Kind => SchedulerKinds.FromClassName(ClassName);

    /// <summary>What samples when nobody chooses: the folder's class, or DDIM when LaptopDiff does not implement it.</summary>
    public SchedulerKind DefaultKind => Kind ?? SchedulerKind.Ddim;

    /// <summary>Every key of the file, in file order.</summary>
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    /// <summary>The value of <paramref name="key"/> as written (a copy), or null when absent or null.</summary>
    public JsonNode? this[string key] => _entries.TryGetPropertyValue(key, out var v) ? v?.DeepClone() : null;

    /// <summary>Keys the file lists in <c>_use_default_values</c>: from_config drops them, so each target class takes its own default.</summary>
    public IReadOnlySet<string> UsedDefaults { get; }

    /// <summary>Reads a <c>scheduler_config.json</c> (a pipeline folder's is <c>PipelineFolder.Scheduler.ConfigPath</c>).</summary>
    public static SchedulerConfig Load(string path)
    {
        if (!File.Exists(path)) throw new DiffusersConfigException(path, FileName, "not found (a pipeline folder keeps it under scheduler/)");
        return Parse(File.ReadAllText(path), path);
    }

    public static SchedulerConfig Parse(string json, string path)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new DiffusersConfigException(path, FileName, $"not valid JSON ({e.Message})"); }
        if (root is not JsonObject entries) throw new DiffusersConfigException(path, FileName, "expected a JSON object");

        string? className = entries["_class_name"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out string? s) => s,
            var other => throw new DiffusersConfigException(path, "_class_name", $"unsupported value {other.ToJsonString()}: expected a class name"),
        };
        var usedDefaults = entries["_use_default_values"] switch
        {
            null => new HashSet<string>(),
            JsonArray list when list.All(e => e is JsonValue v && v.TryGetValue(out string? _)) => list.Select(e => e!.GetValue<string>()).ToHashSet(),
            var other => throw new DiffusersConfigException(path, "_use_default_values", $"unsupported value {other.ToJsonString()}: expected a list of keys"),
        };
        return new SchedulerConfig(path, entries, className, usedDefaults);
    }

    /// <summary>
    /// The config <paramref name="target"/> gets from <c>from_config</c>: each of its <c>__init__</c> keys from the file
    /// (unless listed in <c>_use_default_values</c>) or its default, then <c>_use_default_values</c> naming the defaulted
    /// ones, then the file's other keys, kept for compatible classes (<c>_class_name</c> becomes the target). Throws
    /// <see cref="DiffusersConfigException"/> (file, key, value) for a value LaptopDiff's scheduler does not implement.
    /// </summary>
    public DerivedSchedulerConfig For(SchedulerKind target)
    {
        var signature = SchedulerSignatures.Of(target);
        var known = signature.Select(p => p.Key).ToHashSet();
        var kept = _entries.Where(e => e.Key != "_use_default_values" && !UsedDefaults.Contains(e.Key)).ToList();
        var given = kept.ToDictionary(e => e.Key, e => e.Value);

        var derived = new JsonObject();
        var defaulted = new List<string>();
        foreach (var (key, fallback) in signature)
        {
            if (given.TryGetValue(key, out var value)) derived[key] = value?.DeepClone();
            else { derived[key] = fallback?.DeepClone(); defaulted.Add(key); }
        }
        if (defaulted.Count > 0) derived["_use_default_values"] = new JsonArray(defaulted.Select(k => (JsonNode?)k).ToArray());
        foreach (var (key, value) in kept.Where(e => !known.Contains(e.Key)))
            derived[key] = key == "_class_name" ? (JsonNode)target.ClassName() : value?.DeepClone();

        var options = SchedulerOptionsReader.Read(target, JsonSerializer.SerializeToElement(derived), Path);
        return new DerivedSchedulerConfig(target, Path, ClassName, derived, defaulted, options);
    }
}
