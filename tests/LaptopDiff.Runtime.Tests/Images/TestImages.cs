using LaptopDiff.Runtime.Images;
using SkiaSharp;

namespace LaptopDiff.Runtime.Tests.Images;

/// <summary>Small image files for the image-folder tests: RGB, grayscale, with alpha, and not an image at all.</summary>
internal static class TestImages
{
    /// <summary>An RGB image whose pixel (x, y) is (x*40 + y, y*30 + 1, 200 - x - y).</summary>
    public static byte[] Rgb(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = 3 * (y * width + x);
                (rgb[i], rgb[i + 1], rgb[i + 2]) = ((byte)(x * 40 + y), (byte)(y * 30 + 1), (byte)(200 - x - y));
            }
        return rgb;
    }

    public static void WriteRgbPng(string path, int width, int height) => File.WriteAllBytes(path, PngImages.EncodeRgb(Rgb(width, height), width, height));

    public static void WriteGrayPng(string path, int side) => WritePng(path, new SKImageInfo(side, side, SKColorType.Gray8, SKAlphaType.Opaque));

    public static void WriteRgbaPng(string path, int side) => WritePng(path, new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Unpremul));

    /// <summary>A file named like an image that holds text.</summary>
    public static void WriteGarbage(string path) => File.WriteAllText(path, "this is not a PNG");

    /// <summary>The PNG colour type in the IHDR chunk: 0 gray, 2 RGB, 6 RGBA.</summary>
    public static int PngColourType(string path) => File.ReadAllBytes(path)[25];

    private static void WritePng(string path, SKImageInfo info)
    {
        using var bitmap = new SKBitmap(info);
        bitmap.Erase(new SKColor(10, 20, 30, 128));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
