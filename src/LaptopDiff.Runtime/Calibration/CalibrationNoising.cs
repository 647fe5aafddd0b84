using System.Globalization;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Calibration;

/// <summary>What makes the sweep's noisy inputs: the seed and the training noise schedule.</summary>
public sealed record NoisingSettings
{
    public long Seed { get; init; }
    public NoiseSchedule Schedule { get; init; } = NoiseSchedule.StableDiffusion;

    /// <summary>
    /// The timesteps a set fixes with its noisy latents (<see cref="CalibrationSet.Timesteps"/>); null when they are drawn
    /// here. The set's hash covers them; they are kept so a criterion lists them.
    /// </summary>
    public EquatableArray<int>? StoredTimesteps { get; init; }

    /// <summary>How timesteps are drawn; part of the identity so a future scheme cannot be mixed up with this one.</summary>
    public const string TimestepScheme = "stratified";
    /// <summary>The scheme of sets that fix their own noisy latents and timesteps.</summary>
    public const string StoredScheme = "stored";

    public string Scheme => StoredTimesteps is null ? TimestepScheme : StoredScheme;

    /// <summary>These settings for <paramref name="set"/>: with its stored timesteps when it fixes its U-Net inputs.</summary>
    public NoisingSettings For(CalibrationSet set) =>
        set.StoredTimesteps is { } stored ? this with { StoredTimesteps = stored.ToEquatableArray() } : this with { StoredTimesteps = null };

    public override string ToString() => StoredTimesteps is null
        ? $"seed {Seed.ToString(CultureInfo.InvariantCulture)}, {Schedule}, {TimestepScheme} timesteps"
        : "the set's own noisy latents and timesteps";
}

/// <summary>
/// The fixed timestep and noise of every calibration sample, so a sweep is reproducible and does not
/// depend on batch size or on which samples a resumed run still needs:
/// <list type="bullet">
/// <item>timesteps are stratified over [0, T): sample j gets t_j = floor((pi(j) + u_j) T / N), where pi is a
/// seeded permutation of [0, N) (so t is not tied to the order of the file) and u_j is uniform in [0, 1);
/// every sample has one fixed t and the N timesteps cover the schedule evenly;</item>
/// <item>noise eps_j is standard normal from sample j's own stream (<see cref="SeededRandom"/>);</item>
/// <item>x_t = sqrt(acp_t) x_0 + sqrt(1 - acp_t) eps (<see cref="NoiseSchedule.AddNoise"/>).</item>
/// </list>
/// A set that fixes its own inputs (<see cref="CalibrationSet.NoisyLatents"/>, <see cref="NoisingSettings.StoredTimesteps"/>)
/// is used as it is: its x_t at its timesteps.
/// </summary>
public sealed class CalibrationNoising
{
    private readonly int[] _timesteps;

    public CalibrationNoising(int samples, NoisingSettings settings)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "need at least one sample");
        Settings = settings;
        int steps = settings.Schedule.Validate().TrainSteps;
        if (settings.StoredTimesteps is { } stored)
        {
            if (stored.Count != samples)
                throw new ArgumentException($"{stored.Count} stored timesteps for {samples} samples", nameof(settings));
            _timesteps = stored.ToArray();
            return;
        }
        var order = new SeededRandom(settings.Seed, RandomPurpose.TimestepOrder, 0).Permutation(samples);
        _timesteps = new int[samples];
        for (int j = 0; j < samples; j++)
        {
            double u = new SeededRandom(settings.Seed, RandomPurpose.Timesteps, j).Uniform(0);
            _timesteps[j] = Math.Min(steps - 1, (int)Math.Floor((order[j] + u) * steps / samples));
        }
    }

    public NoisingSettings Settings { get; }

    /// <summary>t_j of every sample, in sample order.</summary>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <summary>
    /// The U-Net inputs of samples [start, start + count): noisy latents, timesteps (int64 [B]) and views of the
    /// conditioning. The new tensors belong to the caller's dispose scope.
    /// </summary>
    public UNetInputs Inputs(CalibrationSet set, int start, int count)
    {
        if (set.Count != _timesteps.Length)
            throw new ArgumentException($"the noising was drawn for {_timesteps.Length} samples, the set has {set.Count}", nameof(set));
        var (x0, context, textEmbeds, timeIds) = set.Slice(start, count);                  // [B,C,H,W], [B,T,D], [B,P], [B,6]
        if (Settings.StoredTimesteps is not null)
        {
            if (set.NoisyLatents is null || set.Timesteps is null)
                throw new ArgumentException($"the noising uses stored timesteps but the set '{set.Path}' holds no noisy latents", nameof(set));
            return new UNetInputs(set.NoisyLatents.narrow(0, start, count), set.Timesteps.narrow(0, start, count), context, textEmbeds, timeIds);
        }
        var (xt, timesteps) = AddNoise(x0, start);
        return new UNetInputs(xt, timesteps, context, textEmbeds, timeIds);
    }

    /// <summary>
    /// Clean latents x_0 [B,C,H,W] of samples [start, start + B) at their timesteps with their own noise: x_t [B,C,H,W]
    /// and the timesteps (int64 [B]), on x_0's device, in the caller's dispose scope.
    /// </summary>
    public (Tensor Noisy, Tensor Timesteps) AddNoise(Tensor x0, int start)
    {
        int count = (int)x0.shape[0];
        if (start < 0 || start + count > _timesteps.Length)
            throw new ArgumentException($"samples {start}..{start + count - 1} are outside the {_timesteps.Length} the noising was drawn for", nameof(start));
        long perSample = x0.shape.Skip(1).Aggregate(1L, (p, d) => p * d);                 // C*H*W
        var noise = new float[count * perSample];
        var t = new long[count];
        for (int b = 0; b < count; b++)
        {
            int j = start + b;
            new SeededRandom(Settings.Seed, RandomPurpose.Noise, j).FillNormal(noise.AsSpan((int)(b * perSample), (int)perSample));
            t[b] = _timesteps[j];
        }
        var timesteps = tensor(t, device: x0.device);                                       // [B]
        var eps = tensor(noise, device: x0.device).reshape(x0.shape);                       // [B,C,H,W], drawn on the host, on x0's device
        return (Settings.Schedule.AddNoise(x0, eps, timesteps), timesteps);                // [B,C,H,W], [B]
    }
}
