namespace LaptopDiff.Runtime.Randomness;

/// <summary>
/// Counter-based random numbers: value k of stream (seed, purpose, index) is a pure function of those
/// four numbers (SplitMix64's finaliser over a Weyl sequence), so a sample's noise does not depend on
/// the batch it is drawn in, on the order samples are visited, on threads, or on libtorch's generator.
/// Not cryptographic; statistically it is SplitMix64 (passes BigCrush).
/// </summary>
public readonly struct SeededRandom
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private readonly ulong _key;

    /// <param name="seed">The user's seed.</param>
    /// <param name="purpose">Separates independent uses (noise, timesteps, synthetic latents, ...).</param>
    /// <param name="index">The sample index (or 0 for a whole-set stream).</param>
    public SeededRandom(long seed, ulong purpose, long index) =>
        _key = Mix(Mix(Mix((ulong)seed) ^ purpose) + (ulong)index * Gamma);

    /// <summary>Random bits number <paramref name="k"/> of the stream.</summary>
    public ulong Bits(long k) => Mix(_key + ((ulong)k + 1) * Gamma);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double Uniform(long k) => (Bits(k) >> 11) * (1.0 / (1UL << 53));

    /// <summary>Fills <paramref name="values"/> with standard normals (Box-Muller on uniforms 2j, 2j+1).</summary>
    public void FillNormal(Span<float> values)
    {
        for (int j = 0; j < values.Length; j += 2)
        {
            double u1 = 1.0 - Uniform(j), u2 = Uniform(j + 1);     // u1 in (0, 1]: log is finite
            double r = Math.Sqrt(-2.0 * Math.Log(u1)), angle = 2.0 * Math.PI * u2;
            values[j] = (float)(r * Math.Cos(angle));
            if (j + 1 < values.Length) values[j + 1] = (float)(r * Math.Sin(angle));
        }
    }

    /// <summary>A uniformly random permutation of [0, n) (Fisher-Yates driven by this stream).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(Uniform(i) * (i + 1));
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>The purposes of the seeded streams; changing a value changes every sweep's noise.</summary>
public static class RandomPurpose
{
    public const ulong Noise = 1;
    public const ulong Timesteps = 2;
    public const ulong TimestepOrder = 3;
    public const ulong SyntheticLatents = 11;
    public const ulong SyntheticContext = 12;
    public const ulong SyntheticTextEmbeds = 13;
    // training (Runtime/Training): per-epoch sample order, per-position noise, timestep and conditioning dropout
    public const ulong TrainingOrder = 21;
    public const ulong TrainingNoise = 22;
    public const ulong TrainingTimesteps = 23;
    public const ulong ConditioningDropout = 24;
    // calibration from a pipeline (Runtime/Calibration/PipelineCalibration): which prompt or image, which sampling step
    public const ulong CalibrationOrder = 34;
    public const ulong CalibrationStep = 32;
    // text-to-image training: random filler tokens in captions; VAE training: the posterior sample's noise
    public const ulong FillerTokens = 25;
    public const ulong VaePosteriorNoise = 26;
    // streamed training sets (Runtime/Training/StreamedSamples): per-epoch shard order, per-epoch order within a shard
    public const ulong ShardOrder = 27;
    public const ulong ShardSampleOrder = 28;
    // digits captions (LaptopDiff.Digits): the value models/digits-sd's training captions were drawn with
    public const ulong DigitCaptions = 31;
}
