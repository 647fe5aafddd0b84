using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Specs;

/// <summary>
/// Loads a spec from disk: a <c>*.unet.yaml</c> or a diffusers <c>config.json</c>. A pruned spec's <c>base:</c> is resolved
/// next to it and may name either kind, e.g. <c>base: ../model/unet/config.json</c> for a pipeline folder's U-Net (the
/// build-time generator resolves YAML bases only). The same parser and layout code as the generated classes.
/// </summary>
public static class SpecFiles
{
    public static UNetSpec Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"spec not found: {path}", path);
        if (IsJson(path)) return DiffusersConfigImporter.ImportFile(path);
        return Parse(path, File.ReadAllText(path));
    }

    /// <summary>A spec's YAML as if it were the file at <paramref name="path"/> (e.g. a pruned spec about to be written there).</summary>
    public static UNetSpec Parse(string path, string yaml) =>
        SpecResolver.Resolve(SpecParser.Parse(path, yaml), reference => ReadBase(path, reference)).GetSpecOrThrow();

    public static UNetLayout LoadLayout(string path) => LayoutBuilder.BuildOrThrow(Load(path), path);

    /// <summary>
    /// The full spec a pruned spec overlays (its <c>base:</c>, resolved as <see cref="Load"/> does) with that file's
    /// path; null for a full spec. Throws as <see cref="Load"/> for a base that is missing or broken.
    /// </summary>
    public static (UNetSpec Spec, string Path)? LoadBase(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"spec not found: {path}", path);
        if (IsJson(path)) return null;
        var parsed = SpecParser.Parse(path, File.ReadAllText(path));
        if (parsed.Spec?.Base is not { } reference) return null;
        Load(path);                                         // the overlay's own errors first, as Load reports them
        var basePath = Path.GetFullPath(BasePath(path, reference));
        return (ReadBase(path, reference)!.GetSpecOrThrow(), basePath);
    }

    private static SpecParseResult? ReadBase(string overlayPath, string reference)
    {
        var basePath = BasePath(overlayPath, reference);
        if (!File.Exists(basePath)) return null;
        return IsJson(basePath)
            ? new SpecParseResult(basePath, DiffusersConfigImporter.ImportFile(basePath), EquatableArray<SpecDiagnostic>.Empty)
            : SpecParser.Parse(basePath, File.ReadAllText(basePath));
    }

    private static string BasePath(string overlayPath, string reference) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(overlayPath))!, reference);

    private static bool IsJson(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
}
