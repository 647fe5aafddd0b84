using SkiaSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Images;

/// <summary>A decoded image [3,S,S] in [-1,1], or why it was skipped (<see cref="Pixels"/> null).</summary>
public sealed record DecodedImage(Tensor? Pixels, string? SkipReason);

/// <summary>
/// Reads one image file with SkiaSharp as a text-to-image pipeline's training input: RGB only (a grayscale image or one
/// with an alpha channel is skipped, not converted, so nothing is silently changed); resized so its shorter side is
/// the model's size (bilinear with antialiasing, torchvision's <c>Resize</c>), centre-cropped to a square
/// (torchvision's <c>CenterCrop</c> offsets) and scaled to [-1, 1], channels first.
/// </summary>
public static class ImageDecoder
{
    public const string Unreadable = "unreadable";
    public const string Grayscale = "grayscale (not RGB)";
    public const string HasAlpha = "has an alpha channel (not RGB)";

    public static DecodedImage Decode(string path, int size)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "the image size must be positive");
        using var codec = SKCodec.Create(path);
        if (codec is null) return new DecodedImage(null, Unreadable);
        var info = codec.Info;
        if (info.ColorType == SKColorType.Gray8) return new DecodedImage(null, Grayscale);
        if (info.AlphaType != SKAlphaType.Opaque) return new DecodedImage(null, HasAlpha);
        if (info.Width < 1 || info.Height < 1) return new DecodedImage(null, Unreadable);

        using var bitmap = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        if (codec.GetPixels(bitmap.Info, bitmap.GetPixels()) != SKCodecResult.Success)
            return new DecodedImage(null, Unreadable);                                        // truncated or corrupt data
        return new DecodedImage(ToModelInput(bitmap.GetPixelSpan().ToArray(), info.Width, info.Height, size), null);
    }

    /// <summary>RGBA bytes (row-major) -> [3,size,size] float32 in [-1,1].</summary>
    public static Tensor ToModelInput(byte[] rgba, int width, int height, int size)
    {
        using var scope = NewDisposeScope();
        var x = tensor(rgba, [height, width, 4]).narrow(2, 0, 3).permute(2, 0, 1)     // [3,H,W] uint8
            .to_type(ScalarType.Float32).unsqueeze(0);                                   // [1,3,H,W]
        if (width != size || height != size)
        {
            // shorter side to `size`, the other scaled alike (truncated, as torchvision does)
            long h = height <= width ? size : (long)((double)size * height / width);
            long w = width <= height ? size : (long)((double)size * width / height);
            if (h != height || w != width)
                x = nn.functional.interpolate(x, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
            long top = (long)Math.Round((h - size) / 2.0), left = (long)Math.Round((w - size) / 2.0);
            x = x.narrow(2, top, size).narrow(3, left, size);
        }
        return (x.squeeze(0) / 127.5 - 1.0).clamp(-1, 1).contiguous().MoveToOuterDisposeScope();
    }
}
