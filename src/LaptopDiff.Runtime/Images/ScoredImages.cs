using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using SkiaSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Images;

/// <summary>
/// Images to score, each [1,3,H,W] float32 in [0,1] at its own size, with a name: the tensor <c>image</c> [N,3,H,W] of a
/// <c>.safetensors</c> file (as <c>generate</c> writes it), or the PNG files of a folder in ordinal name order. An image
/// that is unreadable or not RGB is an input error naming it: scores pair images with prompts by position, so none may be
/// left out. Owns its tensors.
/// </summary>
public sealed class ScoredImages : IDisposable
{
    public const string TensorName = "image";

    private ScoredImages(IReadOnlyList<string> names, IReadOnlyList<Tensor> images)
    {
        Names = names;
        Images = images;
    }

    public IReadOnlyList<string> Names { get; }
    /// <summary>[1,3,H,W] each, in [0,1].</summary>
    public IReadOnlyList<Tensor> Images { get; }
    public int Count => Images.Count;

    public static ScoredImages Load(string path)
    {
        if (Directory.Exists(path)) return FromFolder(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"images not found: {path} (a .safetensors file with tensor '{TensorName}', or a folder of PNG files)", path);
        var header = SafetensorsFile.ReadHeader(path);
        var entry = header.Find(TensorName)
            ?? throw new InputException($"'{path}' has no tensor '{TensorName}' (it has {string.Join(", ", header.Entries.Select(e => e.Name))}); generate --output X.safetensors writes one.");
        if (entry.Shape.Count != 4 || entry.Shape[1] != 3 || entry.Shape[0] < 1)
            throw new InputException($"'{path}': '{TensorName}' must be [N,3,H,W] (RGB in [0,1]), found {Shapes.Format(entry.Shape)}");
        var tensors = SafetensorsFile.Load(path, ScalarType.Float32);
        try
        {
            var all = tensors[TensorName];
            long n = all.shape[0];
            var images = Enumerable.Range(0, (int)n).Select(i => all.narrow(0, i, 1).clone().DetachFromDisposeScope()).ToList();
            return new ScoredImages(Enumerable.Range(0, (int)n).Select(i => $"{Path.GetFileName(path)}[{i}]").ToList(), images);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static ScoredImages FromFolder(string dir)
    {
        var files = Directory.EnumerateFiles(dir, "*.png").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InputException($"image folder '{dir}' holds no PNG files");
        var images = new List<Tensor>();
        try
        {
            foreach (var file in files) images.Add(ReadPng(file));
        }
        catch
        {
            foreach (var t in images) t.Dispose();
            throw;
        }
        return new ScoredImages(files.Select(Path.GetFileName).ToList()!, images);
    }

    /// <summary>One RGB file (no alpha, not grayscale) -> [1,3,H,W] in [0,1].</summary>
    public static Tensor ReadPng(string path)
    {
        using var codec = SKCodec.Create(path) ?? throw new InputException($"image '{path}' is unreadable");
        var info = codec.Info;
        if (info.ColorType == SKColorType.Gray8) throw new InputException($"image '{path}' is {ImageDecoder.Grayscale}");
        if (info.AlphaType != SKAlphaType.Opaque) throw new InputException($"image '{path}' {ImageDecoder.HasAlpha}");
        using var bitmap = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        if (codec.GetPixels(bitmap.Info, bitmap.GetPixels()) != SKCodecResult.Success) throw new InputException($"image '{path}' is unreadable (truncated or corrupt)");
        using var scope = NewDisposeScope();
        var rgba = tensor(bitmap.GetPixelSpan().ToArray(), [info.Height, info.Width, 4]);                // [H,W,4] uint8
        var x = rgba.narrow(2, 0, 3).permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32) / 255.0;  // [1,3,H,W]
        return x.contiguous().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in Images) t.Dispose();
    }
}
