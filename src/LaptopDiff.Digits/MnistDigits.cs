using LaptopDiff.Runtime.Evaluation;
using System.Globalization;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Digits;

/// <summary>
/// One split of the shipped MNIST file (<c>models/digits/mnist.safetensors</c>, made by
/// <c>models/digits/convert-mnist.sh</c>): uint8 images [N,28,28] (0 = background) and their labels as int64 [N].
/// The digits model sees them padded to 32x32 and scaled to [-1,1] (<see cref="ToModelInput(Tensor)"/>).
/// </summary>
public sealed class MnistDigits : IDisposable
{
    public const int ImageSide = 28;
    public const int ModelSide = 32;
    public const int ClassCount = 10;
    /// <summary>Value of the file's <c>format</c> metadata key.</summary>
    public const string FormatVersion = "laptopdiff.mnist/1";

    private MnistDigits(Tensor images, Tensor labels, string source)
    {
        Images = images;
        Labels = labels;
        Source = source;
    }

    /// <summary>uint8 [N, 28, 28].</summary>
    public Tensor Images { get; }
    /// <summary>int64 [N], values 0..9.</summary>
    public Tensor Labels { get; }
    /// <summary>The file's attribution (metadata <c>source</c>).</summary>
    public string Source { get; }
    public int Count => (int)Labels.shape[0];

    /// <summary>The repository's shipped file, found from a folder inside the repository (tests, the CLI run from the repo).</summary>
    public static string DefaultPath(string repoRoot) => Path.Combine(repoRoot, "models", "digits", "mnist.safetensors");

    /// <summary>Loads one split; a file without the expected tensors, dtypes or labels is a <see cref="WeightsException"/>.</summary>
    public static MnistDigits Load(string path, MnistSplit split)
    {
        var header = SafetensorsFile.ReadHeaderOfFormat(path, FormatVersion, "a LaptopDiff MNIST file", "; regenerate it with models/digits/convert-mnist.sh.");
        string prefix = split == MnistSplit.Train ? "train" : "heldout";
        var all = SafetensorsFile.Load(path);
        try
        {
            var images = Take(all, path, $"{prefix}.images");
            var labels = Take(all, path, $"{prefix}.labels");
            if (images.dtype != ScalarType.Byte || labels.dtype != ScalarType.Byte)
                throw new WeightsException($"'{path}': {prefix}.images and {prefix}.labels must be uint8, found {images.dtype} and {labels.dtype}.");
            if (images.dim() != 3 || images.shape[1] != ImageSide || images.shape[2] != ImageSide || labels.dim() != 1 || labels.shape[0] != images.shape[0])
                throw new WeightsException($"'{path}': {prefix}.images must be [N,{ImageSide},{ImageSide}] with {prefix}.labels [N]; found [{string.Join(",", images.shape)}] and [{string.Join(",", labels.shape)}].");
            if (labels.numel() == 0 || labels.max().item<byte>() >= ClassCount)
                throw new WeightsException($"'{path}': {prefix}.labels must be non-empty and in 0..{ClassCount - 1}.");
            header.Metadata.TryGetValue("source", out var source);
            return new MnistDigits(images.clone(), labels.to_type(ScalarType.Int64), source ?? "");
        }
        finally
        {
            foreach (var t in all.Values) t.Dispose();
        }
    }

    private static Tensor Take(Dictionary<string, Tensor> all, string path, string name) =>
        all.TryGetValue(name, out var t) ? t : throw new WeightsException($"'{path}' has no tensor '{name}'; regenerate it with models/digits/convert-mnist.sh.");

    /// <summary>This split's images as the model sees them: float32 [N,1,32,32] in [-1,1].</summary>
    public Tensor ToModelInput() => ToModelInput(Images);

    /// <summary>uint8 [N,28,28] -> float32 [N,1,32,32]: zero-padded by 2 on each side (background, -1 after scaling), x/127.5 - 1.</summary>
    public static Tensor ToModelInput(Tensor imagesU8)
    {
        using var scope = NewDisposeScope();
        int pad = (ModelSide - ImageSide) / 2;
        var x = nn.functional.pad(imagesU8.to_type(ScalarType.Float32).unsqueeze(1), [pad, pad, pad, pad]);
        return (x / 127.5f - 1f).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Writes the split as a training/calibration set (format <c>laptopdiff.calibration/1</c>): <c>latents</c> float32
    /// [N,1,32,32] (the pixels: the digits model has no VAE) and <c>labels</c> int64 [N], which a class conditioner turns
    /// into encoder_hidden_states. Atomic: a failure leaves no file.
    /// </summary>
    public void WriteTrainingSet(string path)
    {
        using var latents = ToModelInput();
        var metadata = new Dictionary<string, string>
        {
            [CalibrationFormat.FormatKey] = CalibrationFormat.Version,
            [CalibrationFormat.SourceKey] = Source,
            [CalibrationFormat.ToolKey] = "LaptopDiff.Digits.MnistDigits",
            ["samples"] = Count.ToString(CultureInfo.InvariantCulture),
        };
        SafetensorsFile.Save(path, [new(CalibrationFormat.Latents, latents), new(CalibrationFormat.Labels, Labels)], metadata);
    }

    /// <summary>The indices of the digits of one class, in file order.</summary>
    public long[] IndicesOf(int label) => Labels.eq(label).nonzero().flatten().data<long>().ToArray();

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
