using System.Text.Json;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Images;

/// <summary>An RGB image (bytes R, G, B per pixel, row-major) with its file name inside the folder and its caption.</summary>
public sealed record CaptionedImage(string FileName, byte[] Rgb, int Width, int Height, string Caption);

/// <summary>
/// Writes an <see cref="ImageFolder"/>: one 8-bit RGB PNG per image and <c>metadata.jsonl</c> with <c>file_name</c> and
/// <c>text</c>. The folder is built beside its final place and renamed into it when complete, so a failure leaves nothing,
/// and an existing folder is never written into.
/// </summary>
public static class ImageFolderWriter
{
    public static void Write(string directory, IEnumerable<CaptionedImage> images)
    {
        AtomicFolder.Write(directory, temp =>
        {
            using (var metadata = new StreamWriter(Path.Combine(temp, ImageFolder.MetadataFile)))
            {
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var image in images)
                {
                    if (!names.Add(image.FileName)) throw new ArgumentException($"two images are named '{image.FileName}'");
                    var path = Path.Combine(temp, image.FileName);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllBytes(path, PngImages.EncodeRgb(image.Rgb, image.Width, image.Height));
                    metadata.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string>
                    {
                        [ImageFolder.FileNameKey] = image.FileName,
                        [ImageFolder.CaptionKey] = image.Caption,
                    }));
                }
            }
        });
    }
}
