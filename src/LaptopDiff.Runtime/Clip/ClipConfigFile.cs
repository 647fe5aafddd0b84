using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;

namespace LaptopDiff.Runtime.Clip;

/// <summary>Opens a transformers <c>config.json</c> (or <c>preprocessor_config.json</c>) for <see cref="ConfigReader"/>.</summary>
internal static class ClipConfigFile
{
    public static JsonElement Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP config not found: {path}", path);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new DiffusersConfigException(path, Path.GetFileName(path), "not a JSON object");
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new DiffusersConfigException(path, Path.GetFileName(path), $"not valid JSON at line {e.LineNumber + 1} ({e.Message})");
        }
    }

    /// <summary>A positive integer option (transformers' default when absent).</summary>
    public static int Positive(ConfigReader config, string key, int fallback)
    {
        int value = config.Int(key) ?? fallback;
        if (value <= 0) throw config.Unsupported(key, value.ToString(), "must be positive");
        return value;
    }
}
