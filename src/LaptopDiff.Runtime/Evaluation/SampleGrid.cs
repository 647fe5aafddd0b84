using LaptopDiff.Runtime.Weights;
using SkiaSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Evaluation;

/// <summary>A PNG of digits, one row per class labelled on the left, white ink on black as MNIST is stored.</summary>
public static class SampleGrid
{
    private const int Scale = 2;
    private const int Gap = 2;
    private const int LabelWidth = 28;

    /// <param name="images">[N,1,H,W] in [-1,1].</param>
    /// <param name="labels">int64 [N]; row r shows the first <paramref name="columns"/> samples of class r.</param>
    public static void WritePng(string path, Tensor images, Tensor labels, int classCount, int columns, string? title = null)
    {
        int side = (int)images.shape[2], cell = side * Scale + Gap, top = title is null ? Gap : 22;
        var pixels = ((images.squeeze(1).clamp(-1, 1) + 1) * 127.5).round().to_type(ScalarType.Byte).contiguous();
        var labelArray = labels.data<long>().ToArray();
        // wide enough for the title even with few columns
        using var bitmap = new SKBitmap(Math.Max(LabelWidth + columns * cell, title is null ? 0 : 8 * title.Length + 8), top + classCount * cell);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var typeface = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        using var font = new SKFont(typeface, 14);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        if (title != null) canvas.DrawText(title, 4, 16, font, ink);
        for (int row = 0; row < classCount; row++)
        {
            canvas.DrawText(row.ToString(System.Globalization.CultureInfo.InvariantCulture), 8, top + row * cell + side * Scale / 2 + 5, font, ink);
            var indices = Enumerable.Range(0, labelArray.Length).Where(i => labelArray[i] == row).Take(columns).ToArray();
            for (int col = 0; col < indices.Length; col++)
            {
                var digit = pixels[indices[col]].data<byte>().ToArray();
                int x0 = LabelWidth + col * cell, y0 = top + row * cell;
                for (int y = 0; y < side * Scale; y++)
                    for (int x = 0; x < side * Scale; x++)
                    {
                        byte v = digit[(y / Scale) * side + x / Scale];
                        bitmap.SetPixel(x0 + x, y0 + y, new SKColor(v, v, v));
                    }
            }
        }
        canvas.Flush();
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, stream => data.SaveTo(stream));
    }
}
