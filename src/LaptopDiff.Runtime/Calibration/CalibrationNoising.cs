using System.Globalization;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Schedulers;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Calibration;

/// <summary>What makes the sweep's noisy inputs: the seed and the training noise schedule.</summary>
public sealed record NoisingSettings
{
    public long Seed { get; init; }
    public NoiseSchedule Schedule { get; init; } = NoiseSchedule.StableDiffusion;

    /// <summary>How timesteps are drawn; part of the identity so a future scheme cannot be mixed up with this one.</summary>
    public const string TimestepScheme = "stratified";

    public override string ToString() =>
        $"seed {Seed.ToString(CultureInfo.InvariantCulture)}, {Schedule}, {TimestepScheme} timesteps";
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
/// </summary>
public sealed class CalibrationNoising
{
    private readonly int[] _timesteps;

    public CalibrationNoising(int samples, NoisingSettings settings)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "need at least one sample");
        Settings = settings;
        int steps = settings.Schedule.Validate().TrainSteps;
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
        long perSample = x0.shape.Skip(1).Aggregate(1L, (p, d) => p * d);                 // C*H*W
        var noise = new float[count * perSample];
        var t = new long[count];
        for (int b = 0; b < count; b++)
        {
            int j = start + b;
            new SeededRandom(Settings.Seed, RandomPurpose.Noise, j).FillNormal(noise.AsSpan((int)(b * perSample), (int)perSample));
            t[b] = _timesteps[j];
        }
        var timesteps = tensor(t);                                                          // [B]
        var eps = tensor(noise).reshape(x0.shape);                                          // [B,C,H,W]
        var xt = Settings.Schedule.AddNoise(x0, eps, timesteps);                            // [B,C,H,W]
        return new UNetInputs(xt, timesteps, context, textEmbeds, timeIds);
    }
}
