using System.Text.Json;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>A component entry of <c>model_index.json</c>: <c>["diffusers", "AutoencoderKL"]</c>; null for <c>[null, null]</c>.</summary>
internal sealed record ComponentClass(string Library, string ClassName)
{
    public override string ToString() => $"{Library} {ClassName}";
}

/// <summary>
/// <c>model_index.json</c> as diffusers writes it: <c>_class_name</c> (the pipeline class), <c>_diffusers_version</c>,
/// one <c>[library, class]</c> pair per component, and the pipeline's config options (any other value). Other
/// underscore keys (<c>_name_or_path</c>) are bookkeeping and skipped.
/// </summary>
internal sealed class ModelIndex
{
    public const string FileName = "model_index.json";

    private ModelIndex(string path, string className, string? diffusersVersion,
        List<KeyValuePair<string, ComponentClass?>> components, List<KeyValuePair<string, JsonElement>> options)
    {
        Path = path;
        ClassName = className;
        DiffusersVersion = diffusersVersion;
        Components = components;
        Options = options;
    }

    public string Path { get; }
    public string ClassName { get; }
    public string? DiffusersVersion { get; }
    /// <summary>In file order; a null value is a component saved as <c>[null, null]</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, ComponentClass?>> Components { get; }
    /// <summary>Every other non-underscore entry, in file order (cloned: valid after the document is gone).</summary>
    public IReadOnlyList<KeyValuePair<string, JsonElement>> Options { get; }

    public static ModelIndex Read(string path)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new PipelineException($"{path} is not valid JSON ({e.Message})."); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PipelineException($"cannot read {path}: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new PipelineException($"{path} is a JSON {Kind(root)}, expected an object with \"_class_name\" and the components.");

            string? className = null, version = null;
            var components = new List<KeyValuePair<string, ComponentClass?>>();
            var options = new List<KeyValuePair<string, JsonElement>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in root.EnumerateObject())
            {
                if (!seen.Add(entry.Name)) throw new PipelineException($"{path} lists '{entry.Name}' twice.");
                switch (entry.Name)
                {
                    case "_class_name": className = String(path, entry); break;
                    case "_diffusers_version": version = String(path, entry); break;
                    case var name when name.StartsWith('_'): break;
                    case var name when entry.Value.ValueKind == JsonValueKind.Array:
                        components.Add(KeyValuePair.Create(name, Component(path, entry))); break;
                    default: options.Add(KeyValuePair.Create(entry.Name, entry.Value.Clone())); break;
                }
            }
            if (className is null)
                throw new PipelineException($"{path} has no \"_class_name\": it does not say which pipeline it is " +
                                            $"(LaptopDiff reads {PipelineDefinition.Supported}).");
            return new ModelIndex(path, className, version, components, options);
        }
    }

    private static ComponentClass? Component(string path, JsonProperty entry)
    {
        var items = entry.Value.EnumerateArray().ToList();
        if (items.Count == 2 && items.All(i => i.ValueKind == JsonValueKind.Null)) return null;
        if (items.Count == 2 && items.All(i => i.ValueKind == JsonValueKind.String && i.GetString()!.Length > 0))
            return new ComponentClass(items[0].GetString()!, items[1].GetString()!);
        throw new PipelineException($"{path}: component '{entry.Name}' is {entry.Value.GetRawText()}, expected [library, class] " +
                                    "such as [\"diffusers\", \"AutoencoderKL\"], or [null, null] for an absent optional component.");
    }

    private static string String(string path, JsonProperty entry) =>
        entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()!
            : throw new PipelineException($"{path}: \"{entry.Name}\" is {entry.Value.GetRawText()}, expected a string.");

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();
}
