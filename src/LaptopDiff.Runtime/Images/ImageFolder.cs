using System.Text.Json;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Images;

/// <summary>One image of a folder and its caption (null where the folder has none for it).</summary>
/// <param name="RelativePath">The path under the folder with '/' separators, as <c>metadata.jsonl</c> names it.</param>
public sealed record ImageFolderEntry(string RelativePath, string FullPath, string? Caption);

/// <summary>
/// An image folder in the Hugging Face <c>imagefolder</c> convention: image files anywhere under the folder, each
/// captioned by a line of <c>metadata.jsonl</c> (<c>{"file_name": "a/b.png", "text": "..."}</c>) or, without that
/// file, by a <c>.txt</c> file of the same name beside the image. Entries are in ordinal order of their relative
/// paths, so a folder always lists the same way. Only names are read here; <see cref="ImageDecoder"/> reads pixels.
/// </summary>
public sealed class ImageFolder
{
    public const string MetadataFile = "metadata.jsonl";
    public const string FileNameKey = "file_name";
    public const string CaptionKey = "text";

    /// <summary>Extensions of the image files listed (lower case): what SkiaSharp decodes.</summary>
    public static readonly IReadOnlySet<string> ImageExtensions = new HashSet<string>(StringComparer.Ordinal)
        { ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif" };

    private ImageFolder(string directory, IReadOnlyList<ImageFolderEntry> entries, string captionSource)
    {
        Directory = directory;
        Entries = entries;
        CaptionSource = captionSource;
    }

    public string Directory { get; }
    public IReadOnlyList<ImageFolderEntry> Entries { get; }
    /// <summary>Where captions came from: <c>metadata.jsonl</c>, <c>.txt files</c> or <c>none</c>.</summary>
    public string CaptionSource { get; }

    /// <summary>
    /// Lists the folder. With <paramref name="captionsRequired"/>, an image without a caption is an <see cref="InputException"/>
    /// naming how many and which; a <c>metadata.jsonl</c> line that is not JSON, lacks <c>file_name</c>/<c>text</c>, repeats a
    /// file or names one that does not exist is one too.
    /// </summary>
    public static ImageFolder Read(string directory, bool captionsRequired)
    {
        var dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir)) throw new InputException($"image folder '{dir}' does not exist");
        var images = System.IO.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Select(f => Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (images.Count == 0)
            throw new InputException($"image folder '{dir}' holds no images ({string.Join(", ", ImageExtensions)})");

        var metadataPath = Path.Combine(dir, MetadataFile);
        Dictionary<string, string>? captions = File.Exists(metadataPath) ? ReadMetadata(metadataPath, dir) : null;
        var entries = images.Select(rel => new ImageFolderEntry(rel, Path.Combine(dir, rel), captions != null
            ? captions.GetValueOrDefault(rel)
            : TxtCaption(Path.Combine(dir, rel)))).ToList();
        string source = captions != null ? MetadataFile : entries.Any(e => e.Caption != null) ? ".txt files" : "none";

        if (captionsRequired)
        {
            var missing = entries.Where(e => e.Caption is null).Select(e => e.RelativePath).ToList();
            if (missing.Count > 0)
                throw new InputException($"image folder '{dir}': {missing.Count} of {entries.Count} images have no caption " +
                    $"({string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}); " +
                    (captions != null
                        ? $"add a line {{\"{FileNameKey}\": ..., \"{CaptionKey}\": ...}} for each to {MetadataFile}"
                        : $"add {MetadataFile} with {FileNameKey} and {CaptionKey} for every image, or a .txt caption beside each"));
        }
        return new ImageFolder(dir, entries, source);
    }

    private static Dictionary<string, string> ReadMetadata(string path, string dir)
    {
        var captions = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string where = $"{path} line {lineNumber}";
            string name, text;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InputException($"{where}: expected a JSON object");
                name = StringField(doc.RootElement, FileNameKey, where);
                text = StringField(doc.RootElement, CaptionKey, where);
            }
            catch (JsonException e)
            {
                throw new InputException($"{where}: not valid JSON ({e.Message})");
            }
            var normalized = name.Replace('\\', '/');
            if (!File.Exists(Path.Combine(dir, normalized)))
                throw new InputException($"{where}: {FileNameKey} '{name}' does not exist in '{dir}'");
            if (!captions.TryAdd(normalized, text))
                throw new InputException($"{where}: '{name}' is captioned twice");
        }
        return captions;
    }

    private static string StringField(JsonElement obj, string key, string where) =>
        obj.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new InputException($"{where}: needs a string '{key}'");

    private static string? TxtCaption(string imagePath)
    {
        var txt = Path.ChangeExtension(imagePath, ".txt");
        return File.Exists(txt) ? File.ReadAllText(txt).Trim() : null;
    }
}
