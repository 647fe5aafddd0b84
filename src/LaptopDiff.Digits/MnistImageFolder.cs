using LaptopDiff.Runtime.Evaluation;
using System.Globalization;
using LaptopDiff.Runtime.Images;

namespace LaptopDiff.Digits;

/// <summary>
/// Writes an MNIST split as an <see cref="ImageFolder"/> for text-to-image training: 32x32 RGB PNGs (the 28x28 digit
/// zero-padded by 2, as the digits models and the classifier see it; R = G = B, white ink on black) named
/// <c>NNNNN.png</c> in split order, each captioned by <see cref="DigitCaptions"/> (a seeded template per image).
/// </summary>
public static class MnistImageFolder
{
    /// <summary>Writes the first <paramref name="count"/> digits of the split (all by default).</summary>
    public static void Write(MnistDigits digits, string directory, CaptionSet captions, long seed, int? count = null)
    {
        int n = Math.Min(count ?? digits.Count, digits.Count);
        var padded = MnistDigits.ToModelInput(digits.Images);                                       // [N,1,32,32] in [-1,1]
        byte[] gray;
        using (padded)
        using (var bytes = ((padded + 1) * 127.5).round().clamp(0, 255).to_type(TorchSharp.torch.ScalarType.Byte).contiguous())
            gray = bytes.data<byte>().ToArray();
        var labels = digits.Labels.data<long>().ToArray();
        int side = MnistDigits.ModelSide, per = side * side;
        ImageFolderWriter.Write(directory, Enumerable.Range(0, n).Select(i =>
        {
            var rgb = new byte[per * 3];
            for (int p = 0; p < per; p++) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = gray[i * per + p];
            int digit = (int)labels[i];
            var caption = captions == CaptionSet.Training
                ? DigitCaptions.ForTrainingImage(digit, seed, i)
                : DigitCaptions.ForEvaluation(CaptionSet.HeldOut, digit, i);
            return new CaptionedImage(i.ToString("D5", CultureInfo.InvariantCulture) + ".png", rgb, side, side, caption);
        }));
    }
}
