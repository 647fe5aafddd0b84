using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Images;

/// <summary>An image the loader left out, and why (<see cref="ImageDecoder"/>'s reasons).</summary>
public sealed record SkippedImage(string RelativePath, string Reason);

/// <summary>
/// Images of an <see cref="ImageFolder"/> decoded at one size: <see cref="Pixels"/> [N,3,S,S] in [-1,1] for the
/// <see cref="Kept"/> entries (in folder order) and the <see cref="Skipped"/> ones with their reasons. Owns its tensor.
/// </summary>
public sealed class ImageBatch : IDisposable
{
    private ImageBatch(Tensor pixels, IReadOnlyList<ImageFolderEntry> kept, IReadOnlyList<SkippedImage> skipped)
    {
        Pixels = pixels;
        Kept = kept;
        Skipped = skipped;
    }

    public Tensor Pixels { get; }
    public IReadOnlyList<ImageFolderEntry> Kept { get; }
    public IReadOnlyList<SkippedImage> Skipped { get; }

    /// <summary>Decodes <paramref name="entries"/>; unreadable and non-RGB files are skipped and listed, never fatal.</summary>
    public static ImageBatch Load(IReadOnlyList<ImageFolderEntry> entries, int size)
    {
        var kept = new List<ImageFolderEntry>();
        var skipped = new List<SkippedImage>();
        var pixels = new List<Tensor>();
        try
        {
            foreach (var entry in entries)
            {
                var decoded = ImageDecoder.Decode(entry.FullPath, size);
                if (decoded.Pixels is null) skipped.Add(new SkippedImage(entry.RelativePath, decoded.SkipReason!));
                else
                {
                    pixels.Add(decoded.Pixels);
                    kept.Add(entry);
                }
            }
            var all = pixels.Count > 0 ? stack(pixels) : zeros(0, 3, size, size);   // [N,3,S,S]
            return new ImageBatch(all.DetachFromDisposeScope(), kept, skipped);
        }
        finally
        {
            foreach (var p in pixels) p.Dispose();
        }
    }

    /// <summary>"3 skipped: 2 unreadable (a.png, b.jpg), 1 grayscale (not RGB) (c.png)"; empty when none were.</summary>
    public static string Describe(IReadOnlyList<SkippedImage> skipped) => skipped.Count == 0 ? "" :
        $"{skipped.Count} skipped: " + string.Join(", ", skipped.GroupBy(s => s.Reason).Select(g =>
            $"{g.Count()} {g.Key} ({string.Join(", ", g.Take(3).Select(s => s.RelativePath))}{(g.Count() > 3 ? ", ..." : "")})"));

    public void Dispose() => Pixels.Dispose();
}
