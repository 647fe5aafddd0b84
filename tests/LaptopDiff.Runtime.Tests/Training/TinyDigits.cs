using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Runtime.Tests.Cli;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

/// <summary>
/// A digits-like toy: a class-conditional pixel-space U-Net (1 channel, 8x8, cross-attention width 8)
/// with a labelled training set, written into a temporary folder. Small enough for a training step in milliseconds.
/// </summary>
internal static class TinyDigits
{
    public const string SpecYaml = """
        name: TinyDigitsUNet
        sample_size: 8
        in_channels: 1
        out_channels: 1
        cross_attention_dim: 8
        norm: { groups: 4, eps: 1.0e-5 }
        down:
          - { type: cross_attn, channels: 8, layers: 1, heads: 2 }
          - { type: cross_attn, channels: 16, layers: 1, heads: 2 }
        mid: { type: cross_attn, heads: 2 }
        up:
          - { type: cross_attn, channels: 16, layers: 2, heads: 2 }
          - { type: cross_attn, channels: 8, layers: 2, heads: 2 }
        """;

    public static string WriteSpec(TempFolder temp, string name = "tiny-digits.unet.yaml")
    {
        var path = temp.File(name);
        File.WriteAllText(path, SpecYaml);
        return path;
    }

    /// <summary>A labelled set: N images in [-1, 1] whose mean depends on the label, labels uint8 in [0, classes).</summary>
    public static string WriteData(TempFolder temp, int count = 24, int classes = 3, string name = "train.safetensors", long seed = 1)
    {
        using var scope = NewDisposeScope();
        var gen = new TorchSharp.torch.Generator((ulong)seed);
        var labels = randint(0, classes, new long[] { count }, dtype: ScalarType.Int64, generator: gen);
        var latents = (rand(new long[] { count, 1, 8, 8 }, generator: gen) * 0.5 + labels.to_type(ScalarType.Float32).reshape(count, 1, 1, 1) / classes - 0.5).clamp(-1, 1);
        var path = temp.File(name);
        SafetensorsFile.Save(path, new[]
        {
            KeyValuePair.Create(CalibrationFormat.Latents, latents),
            KeyValuePair.Create(CalibrationFormat.Labels, labels.to_type(ScalarType.Byte)),
        }, new Dictionary<string, string> { ["format"] = CalibrationFormat.Version });
        return path;
    }
}
