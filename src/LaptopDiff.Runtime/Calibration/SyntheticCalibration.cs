using System.Globalization;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Calibration;

/// <summary>Options of a synthetic calibration set (smoke tests, benchmarks).</summary>
public sealed record SyntheticCalibrationOptions
{
    public int Samples { get; init; } = 64;
    public long Seed { get; init; }
    /// <summary>Text tokens T of <c>encoder_hidden_states</c> (CLIP's 77 by default).</summary>
    public int Tokens { get; init; } = 77;
    /// <summary>Latent height and width; the spec's <c>sample_size</c> when null.</summary>
    public int? SampleSize { get; init; }
}

/// <summary>
/// Writes a seeded random calibration set of the right shapes for any spec: standard-normal latents and
/// conditioning (SD latents are scaled to roughly unit variance), SDXL <c>time_ids</c> for the square
/// image the latents decode to. Sample j depends only on (seed, j), and the file has no timestamp, so the
/// same command writes the same bytes (and the same calibration hash).
/// </summary>
public static class SyntheticCalibration
{
    /// <summary>Pixels per latent cell of the Stable Diffusion VAEs (time_ids are in pixels).</summary>
    private const int VaeScaleFactor = 8;

    public static void Write(string path, UNetLayout layout, SyntheticCalibrationOptions options)
    {
        var spec = layout.Spec;
        int n = options.Samples, size = options.SampleSize ?? spec.SampleSize, tokens = options.Tokens;
        if (n < 1) throw new SettingException(nameof(options.Samples), n, "must be at least 1");
        if (tokens < 1) throw new SettingException(nameof(options.Tokens), tokens, "must be at least 1");
        long down = 1L << spec.Down.Count(s => s.Resample);
        if (size < 1 || size % down != 0)
            throw new SettingException(nameof(options.SampleSize), size, $"must be a positive multiple of {down} ({spec.Name} downsamples {down}x)");

        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new(CalibrationFormat.Latents, Normal(options.Seed, RandomPurpose.SyntheticLatents, n, spec.InChannels, size, size)),
            new(CalibrationFormat.EncoderHiddenStates, Normal(options.Seed, RandomPurpose.SyntheticContext, n, tokens, spec.CrossAttentionDim)),
        };
        if (spec.AdditionEmbedding is AdditionEmbeddingSpec add)
        {
            tensors.Add(new(CalibrationFormat.TextEmbeds, Normal(options.Seed, RandomPurpose.SyntheticTextEmbeds, n, add.TextEmbedDim)));
            float px = size * VaeScaleFactor;
            // SDXL's (original h, w, crop top, left, target h, w); other counts get the size repeated
            var ids = add.TimeIdCount == 6 ? new[] { px, px, 0, 0, px, px } : Enumerable.Repeat(px, add.TimeIdCount).ToArray();
            tensors.Add(new(CalibrationFormat.TimeIds, tensor(ids).reshape(1, add.TimeIdCount).repeat(n, 1).contiguous()));
        }
        var metadata = new Dictionary<string, string>
        {
            [CalibrationFormat.FormatKey] = CalibrationFormat.Version,
            [CalibrationFormat.SourceKey] = "synthetic: standard normal latents and conditioning",
            [CalibrationFormat.SpecKey] = $"{spec.Name} {SpecHash.Compute(spec)}",
            [CalibrationFormat.SeedKey] = options.Seed.ToString(CultureInfo.InvariantCulture),
            [CalibrationFormat.ToolKey] = "laptop-diff calibration --synthetic",
        };
        SafetensorsFile.Save(path, tensors, metadata);
    }

    /// <summary>[n, ...shape] standard normals; sample j from its own stream (seed, purpose, j).</summary>
    private static Tensor Normal(long seed, ulong purpose, int n, params long[] shape)
    {
        long per = shape.Aggregate(1L, (a, b) => a * b);
        var data = new float[checked(n * per)];
        for (int j = 0; j < n; j++) new SeededRandom(seed, purpose, j).FillNormal(data.AsSpan((int)(j * per), (int)per));
        return tensor(data).reshape(new[] { (long)n }.Concat(shape).ToArray());
    }
}
