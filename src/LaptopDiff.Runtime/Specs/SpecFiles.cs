using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Specs;

/// <summary>
/// Loads a spec from disk: a <c>*.unet.yaml</c> (pruned specs resolve <c>base:</c> next to them) or a
/// diffusers <c>config.json</c>. The same parser and layout code as the generated classes.
/// </summary>
public static class SpecFiles
{
    public static UNetSpec Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"spec not found: {path}", path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return DiffusersConfigImporter.ImportFile(path);

        var parsed = SpecParser.Parse(path, File.ReadAllText(path));
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var resolved = SpecResolver.Resolve(parsed, reference =>
        {
            var basePath = Path.Combine(dir, reference);
            return File.Exists(basePath) ? SpecParser.Parse(basePath, File.ReadAllText(basePath)) : null;
        });
        return resolved.GetSpecOrThrow();
    }

    public static UNetLayout LoadLayout(string path) => LayoutBuilder.BuildOrThrow(Load(path), path);
}
