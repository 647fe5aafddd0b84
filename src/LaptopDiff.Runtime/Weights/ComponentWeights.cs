using System.Text.RegularExpressions;

namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// The weights of one model folder (a pipeline component) under the names diffusers and transformers save:
/// <c>BASE.safetensors</c>, or shards listed by <c>BASE.safetensors.index.json</c>; a variant (e.g. <c>fp16</c>)
/// inserts its name: <c>BASE.fp16.safetensors</c>, <c>BASE.safetensors.index.fp16.json</c> (older writers:
/// <c>BASE.safetensors.fp16.index.json</c>). Only headers are read. A folder may hold no weights at all
/// (a structure-only folder): then <see cref="Files"/> is null and loading fails with <see cref="Require"/>'s message.
/// </summary>
public sealed partial class ComponentWeights
{
    /// <summary>File base name of diffusers models (<c>UNet2DConditionModel</c>, <c>AutoencoderKL</c>).</summary>
    public const string DiffusersBaseName = "diffusion_pytorch_model";
    /// <summary>File base name of transformers models (<c>CLIPTextModel</c>, ...).</summary>
    public const string TransformersBaseName = "model";

    private const int ShownFiles = 8;

    private ComponentWeights(string folder, string baseName, string? variant, SafetensorsSet? files)
    {
        Folder = folder;
        BaseName = baseName;
        Variant = variant;
        Files = files;
    }

    public string Folder { get; }
    public string BaseName { get; }
    public string? Variant { get; }
    /// <summary>The resolved file or shards; null when the folder holds no weights.</summary>
    public SafetensorsSet? Files { get; }
    public bool HasWeights => Files is not null;
    /// <summary>Tensor count per safetensors dtype (<c>F16</c>, <c>F32</c>, ...); empty without weights.</summary>
    public IReadOnlyDictionary<string, int> DTypes => Files?.DTypes ?? new Dictionary<string, int>();

    /// <summary>The weights to load; a folder without any is a <see cref="WeightsException"/> saying what was looked for.</summary>
    public SafetensorsSet Require() => Files ?? throw new WeightsException(
        $"'{Folder}' holds no weights (looked for {Expected(BaseName, Variant)}): it describes the structure only. " +
        "Use a folder that has the model's weight files.");

    /// <summary>One line for reports: which file(s), how many tensors, of which dtypes.</summary>
    public string Describe()
    {
        if (Files is null) return "no weights";
        var what = Files.IsSharded
            ? $"{Path.GetFileName(Files.Path)} ({Files.Files.Count} shards)"
            : Path.GetFileName(Files.Path);
        var dtypes = string.Join(", ", Files.DTypes.Select(d => $"{d.Key} {d.Value}"));
        return $"{what}: {Files.Entries.Count} tensors ({dtypes}), {Files.ByteLength:N0} bytes";
    }

    /// <summary>
    /// Finds <paramref name="folder"/>'s weights. Pickled files are never used: a folder with only those is refused;
    /// a missing variant, files under other names, or both a single file and an index are errors listing what is there.
    /// </summary>
    public static ComponentWeights Resolve(string folder, string baseName, string? variant = null)
    {
        if (variant is not null && (variant.Length == 0 || variant.IndexOfAny(['.', '/', '\\']) >= 0))
            throw new WeightsException($"variant '{variant}' is not a variant name such as 'fp16' (no dots or path separators).");
        if (!Directory.Exists(folder))
            throw new WeightsException($"weights folder '{folder}' does not exist.");

        var names = Directory.GetFiles(folder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var single = SingleName(baseName, variant);
        var indexes = IndexNames(baseName, variant).Where(names.Contains).ToList();
        bool hasSingle = names.Contains(single);

        if (indexes.Count + (hasSingle ? 1 : 0) > 1)
            throw new WeightsException($"'{folder}' holds both {string.Join(" and ", (hasSingle ? [single] : Array.Empty<string>()).Concat(indexes))}: " +
                                       "it is unclear which are the weights. Remove the stale one.");
        if (indexes.Count == 1) return new(folder, baseName, variant, SafetensorsSet.Sharded(Path.Combine(folder, indexes[0])));
        if (hasSingle) return new(folder, baseName, variant, SafetensorsSet.Single(Path.Combine(folder, single)));

        var weightFiles = names.Where(n => n.EndsWith(".safetensors", StringComparison.Ordinal) || IndexFile().IsMatch(n) || PickledWeights.IsPickled(n)).ToList();
        if (weightFiles.Count == 0) return new(folder, baseName, variant, null);
        if (weightFiles.All(PickledWeights.IsPickled)) throw PickledWeights.Refusal($"'{folder}'", weightFiles);

        var found = $"it has {List(weightFiles)}";
        if (variant is not null)
            throw new WeightsException($"'{folder}' has no '{variant}' variant weights (looked for {Expected(baseName, variant)}); {found}. " +
                                       $"Ask for no variant or another one, or get the '{variant}' files.");
        var variants = weightFiles.Select(n => VariantOf(baseName, n)).OfType<string>().Distinct().ToList();
        var hint = variants.Count > 0
            ? $"Ask for the variant {string.Join(" or ", variants.Select(v => $"'{v}'"))} to use those."
            : $"Save the weights as {single}.";
        throw new WeightsException($"'{folder}' has no {Expected(baseName, null)}; {found}. {hint}");
    }

    private static string SingleName(string baseName, string? variant) =>
        variant is null ? $"{baseName}.safetensors" : $"{baseName}.{variant}.safetensors";

    private static string[] IndexNames(string baseName, string? variant) => variant is null
        ? [$"{baseName}.safetensors.index.json"]
        : [$"{baseName}.safetensors.index.{variant}.json", $"{baseName}.safetensors.{variant}.index.json"];

    private static string Expected(string baseName, string? variant) =>
        $"{SingleName(baseName, variant)} or {IndexNames(baseName, variant)[0]}";

    /// <summary>The variant a file name carries (<c>BASE.fp16.safetensors</c>, <c>BASE.fp16-00001-of-00002.safetensors</c>, an index).</summary>
    private static string? VariantOf(string baseName, string fileName)
    {
        var b = Regex.Escape(baseName);
        foreach (var pattern in new[]
                 {
                     $@"^{b}\.(?<v>[^.\-]+)(-\d{{5}}-of-\d{{5}})?\.safetensors$",
                     $@"^{b}\.safetensors\.index\.(?<v>[^.]+)\.json$",
                     $@"^{b}\.safetensors\.(?<v>[^.]+)\.index\.json$",
                 })
            if (Regex.Match(fileName, pattern) is { Success: true } m) return m.Groups["v"].Value;
        return null;
    }

    private static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(ShownFiles)) + (names.Count > ShownFiles ? $" and {names.Count - ShownFiles} more" : "");

    [GeneratedRegex(@"\.safetensors(\.[^.]+)?\.index(\.[^.]+)?\.json$")]
    private static partial Regex IndexFile();
}
