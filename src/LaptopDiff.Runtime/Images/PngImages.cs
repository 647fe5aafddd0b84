using System.Runtime.InteropServices;
using LaptopDiff.Runtime.Weights;
using SkiaSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Images;

/// <summary>
/// RGB images [3,H,W] in [0,1] (a pipeline's <c>output_type="pt"</c>) to PNG files, alone or as a labelled grid.
/// Pixels are <c>round(x * 255)</c>, as diffusers' <c>numpy_to_pil</c> makes them. Files are written atomically.
/// </summary>
public static class PngImages
{
    private const int Gap = 8;
    private const int LabelLines = 2;
    private const float FontSize = 14;

    /// <summary>One image [3,H,W] (or [1,3,H,W]) in [0,1].</summary>
    public static void Write(string path, Tensor image)
    {
        using var bitmap = ToBitmap(image.dim() == 4 ? image[0] : image);
        Save(path, bitmap);
    }

    /// <summary>
    /// Images [N,3,H,W] in [0,1] in a grid of ceil(sqrt(N)) columns, each with its label (e.g. its prompt) in up to two
    /// lines below it, cut with an ellipsis when longer.
    /// </summary>
    public static void WriteGrid(string path, Tensor images, IReadOnlyList<string> labels)
    {
        int n = (int)images.shape[0];
        if (labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} images", nameof(labels));
        int height = (int)images.shape[2], width = (int)images.shape[3];
        int columns = (int)Math.Ceiling(Math.Sqrt(n)), rows = (n + columns - 1) / columns;
        int labelHeight = (int)(LabelLines * FontSize * 1.3f) + 4;
        int cellWidth = width + Gap, cellHeight = height + labelHeight + Gap;

        using var grid = new SKBitmap(Gap + columns * cellWidth, Gap + rows * cellHeight, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(grid);
        canvas.Clear(SKColors.White);
        using var typeface = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        using var font = new SKFont(typeface, FontSize);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (int i = 0; i < n; i++)
        {
            int x = Gap + i % columns * cellWidth, y = Gap + i / columns * cellHeight;
            using (var image = ToBitmap(images[i])) canvas.DrawBitmap(image, x, y);
            var lines = Wrap(labels[i], font, width);
            for (int l = 0; l < lines.Count; l++) canvas.DrawText(lines[l], x, y + height + (l + 1) * FontSize * 1.3f, font, ink);
        }
        canvas.Flush();
        Save(path, grid);
    }

    /// <summary>An 8-bit RGB PNG (colour type 2: no alpha) of <paramref name="rgb"/>.</summary>
    public static byte[] EncodeRgb(byte[] rgb, int width, int height)
    {
        if (rgb.Length != width * height * 3)
            throw new ArgumentException($"{rgb.Length} bytes for a {width}x{height} RGB image (expected {width * height * 3})", nameof(rgb));
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgb888x, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();                     // 4 bytes per pixel: R, G, B, unused
        for (int i = 0; i < width * height; i++)
        {
            pixels[4 * i] = rgb[3 * i];
            pixels[4 * i + 1] = rgb[3 * i + 1];
            pixels[4 * i + 2] = rgb[3 * i + 2];
            pixels[4 * i + 3] = 255;
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static SKBitmap ToBitmap(Tensor image)
    {
        if (image.dim() != 3 || image.shape[0] != 3)
            throw new ArgumentException($"expected an RGB image [3,H,W], got [{string.Join(",", image.shape)}]", nameof(image));
        using var scope = NewDisposeScope();
        int height = (int)image.shape[1], width = (int)image.shape[2];
        var rgb = (image.to_type(ScalarType.Float32) * 255).round().clamp(0, 255).to_type(ScalarType.Byte).permute(1, 2, 0);   // [H,W,3]
        var rgba = cat([rgb, full([height, width, 1], 255, ScalarType.Byte)], 2).contiguous();                                 // [H,W,4]
        var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        Marshal.Copy(rgba.data<byte>().ToArray(), 0, bitmap.GetPixels(), height * width * 4);
        return bitmap;
    }

    // Greedy word wrap into at most LabelLines lines of maxWidth pixels; an ellipsis marks text that did not fit.
    private static List<string> Wrap(string text, SKFont font, int maxWidth)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var lines = new List<string>();
        var current = "";
        int placed = 0;
        for (; placed < words.Length; placed++)
        {
            var candidate = current.Length == 0 ? words[placed] : current + " " + words[placed];
            if (current.Length == 0 || font.MeasureText(candidate) <= maxWidth) { current = candidate; continue; }
            lines.Add(current);
            current = lines.Count == LabelLines ? "" : words[placed];
            if (current.Length == 0) break;
        }
        if (current.Length > 0) lines.Add(current);
        for (int l = 0; l < lines.Count; l++)
            if (font.MeasureText(lines[l]) > maxWidth || (l == lines.Count - 1 && placed < words.Length))
                lines[l] = Ellipsize(lines[l], font, maxWidth);
        return lines;
    }

    private static string Ellipsize(string line, SKFont font, int maxWidth)
    {
        const string ellipsis = "...";
        while (line.Length > 0 && font.MeasureText(line + ellipsis) > maxWidth) line = line[..^1];
        return line + ellipsis;
    }

    private static void Save(string path, SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, stream => data.SaveTo(stream));
    }
}
