using System.Globalization;
using System.Security.Cryptography;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Schedulers;

/// <summary>How betas grow over the training schedule (diffusers' <c>beta_schedule</c>).</summary>
public enum BetaSchedule
{
    /// <summary>betas = linspace(sqrt(beta_start), sqrt(beta_end), T)^2 (Stable Diffusion's schedule).</summary>
    ScaledLinear,
    /// <summary>betas = linspace(beta_start, beta_end, T) (the original DDPM schedule).</summary>
    Linear,
    /// <summary>GLIDE's cosine schedule: beta_t = min(1 - abar((t+1)/T) / abar(t/T), 0.999), abar(s) = cos((s + 0.008) / 1.008 * pi/2)^2; ignores beta_start/beta_end.</summary>
    SquaredCosCapV2,
}

/// <summary>
/// The training noise schedule of a diffusion model: x_t = sqrt(acp_t) x_0 + sqrt(1 - acp_t) eps, with
/// acp_t = prod_{s &lt;= t} (1 - beta_s) for t in [0, T). The default is Stable Diffusion's (scaled linear,
/// 0.00085 to 0.012, 1000 steps). <see cref="TrainedBetas"/>, when given, replace the formula (diffusers'
/// <c>trained_betas</c>).
/// Two renderings of the same betas: <see cref="AlphasCumprod"/> in double noises training and calibration
/// samples (<see cref="AddNoise"/>; kept bit for bit as sweeps and checkpoints were made), and
/// <see cref="AlphasCumprodFloat32"/> is diffusers' own float32 arithmetic, which the samplers step with. They
/// differ by at most 9.3e-7 relative (SD's schedule; 3.6e-7 for DDPM's linear one).
/// </summary>
public sealed record NoiseSchedule
{
    public BetaSchedule Kind { get; init; } = BetaSchedule.ScaledLinear;
    public double BetaStart { get; init; } = 0.00085;
    public double BetaEnd { get; init; } = 0.012;
    /// <summary>T, the number of training timesteps.</summary>
    public int TrainSteps { get; init; } = 1000;
    /// <summary>beta_t given as a list (length T), overriding <see cref="Kind"/>; empty when the formula applies.</summary>
    public EquatableArray<double> TrainedBetas { get; init; } = EquatableArray<double>.Empty;

    public static NoiseSchedule StableDiffusion { get; } = new();

    /// <summary>The schedule's name in files and on the command line: <c>scaled_linear</c>, <c>linear</c> or <c>squaredcos_cap_v2</c>.</summary>
    public string KindName => Kind switch
    {
        BetaSchedule.ScaledLinear => "scaled_linear",
        BetaSchedule.Linear => "linear",
        _ => "squaredcos_cap_v2",
    };

    public static BetaSchedule ParseKind(string name) => name switch
    {
        "scaled_linear" => BetaSchedule.ScaledLinear,
        "linear" => BetaSchedule.Linear,
        "squaredcos_cap_v2" => BetaSchedule.SquaredCosCapV2,
        _ => throw new ArgumentException($"unknown beta schedule '{name}'; expected scaled_linear, linear or squaredcos_cap_v2"),
    };

    /// <summary>Throws <see cref="ArgumentException"/> for a schedule that is not a valid DDPM schedule.</summary>
    public NoiseSchedule Validate()
    {
        if (TrainSteps < 2) throw new ArgumentException($"the schedule needs at least 2 training steps, got {TrainSteps}");
        if (TrainedBetas.Count > 0)
        {
            if (TrainedBetas.Count != TrainSteps)
                throw new ArgumentException($"trained_betas has {TrainedBetas.Count} values for {TrainSteps} training steps");
            int bad = TrainedBetas.ToList().FindIndex(b => !(b > 0 && b < 1));
            if (bad >= 0) throw new ArgumentException($"trained_betas[{bad}] is {Num(TrainedBetas[bad])}; betas must be in (0, 1)");
        }
        else if (Kind != BetaSchedule.SquaredCosCapV2 && !(BetaStart > 0 && BetaEnd > 0 && BetaStart < 1 && BetaEnd < 1))
            throw new ArgumentException($"betas must be in (0, 1), got beta_start {Num(BetaStart)} and beta_end {Num(BetaEnd)}");
        return this;
    }

    /// <summary>beta_t for t in [0, T).</summary>
    public double[] Betas()
    {
        Validate();
        if (TrainedBetas.Count > 0) return TrainedBetas.ToArray();
        if (Kind == BetaSchedule.SquaredCosCapV2) return CosineBetas();
        var betas = new double[TrainSteps];
        double a = Kind == BetaSchedule.ScaledLinear ? Math.Sqrt(BetaStart) : BetaStart;
        double b = Kind == BetaSchedule.ScaledLinear ? Math.Sqrt(BetaEnd) : BetaEnd;
        for (int t = 0; t < TrainSteps; t++)
        {
            double v = a + (b - a) * t / (TrainSteps - 1);                      // linspace, both ends included
            betas[t] = Kind == BetaSchedule.ScaledLinear ? v * v : v;
        }
        return betas;
    }

    /// <summary>alphas_cumprod in double: acp_t = prod_{s &lt;= t} (1 - beta_s).</summary>
    public double[] AlphasCumprod()
    {
        var betas = Betas();
        var acp = new double[betas.Length];
        double running = 1.0;
        for (int t = 0; t < betas.Length; t++) acp[t] = running *= 1.0 - betas[t];
        return acp;
    }

    /// <summary>
    /// alphas_cumprod as diffusers' schedulers hold it: betas by torch's float32 <c>linspace</c> (squared for
    /// scaled_linear; the cosine and trained betas rounded from double), <c>1 - betas</c> in float32, then
    /// libtorch's <c>cumprod</c> (which accumulates in double on the CPU and rounds each entry to float32).
    /// </summary>
    public float[] AlphasCumprodFloat32()
    {
        Validate();
        using var scope = NewDisposeScope();
        var betas = TrainedBetas.Count > 0 ? tensor(TrainedBetas.Select(b => (float)b).ToArray())
            : Kind switch
            {
                BetaSchedule.Linear => linspace(BetaStart, BetaEnd, TrainSteps, ScalarType.Float32),
                // Python's beta ** 0.5 is C's pow, as Math.Pow is
                BetaSchedule.ScaledLinear => linspace(Math.Pow(BetaStart, 0.5), Math.Pow(BetaEnd, 0.5), TrainSteps, ScalarType.Float32).pow(2),
                _ => tensor(CosineBetas().Select(b => (float)b).ToArray()),
            };
        return (1.0 - betas).cumprod(0).data<float>().ToArray();
    }

    /// <summary>
    /// The forward process at training timesteps: x_t = sqrt(acp_t) x_0 + sqrt(1 - acp_t) noise, with the
    /// coefficients from <see cref="AlphasCumprod"/> rounded to float32, one per row of <paramref name="x0"/>
    /// (<paramref name="timesteps"/>: [B] or [1] integers in [0, T)). The result belongs to the caller's scope.
    /// </summary>
    public Tensor AddNoise(Tensor x0, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var t = timesteps.to_type(ScalarType.Int64).flatten();                            // [B]
        if (t.numel() == 0) throw new ArgumentException("no timesteps to noise at", nameof(timesteps));
        long min = t.min().item<long>(), max = t.max().item<long>();
        if (min < 0 || max >= TrainSteps)
            throw new ArgumentException($"timesteps must be in 0..{TrainSteps - 1} (the schedule's), got {(min < 0 ? min : max)}", nameof(timesteps));
        var shape = new long[x0.dim()];                                                   // [B,1,...,1]
        Array.Fill(shape, 1L);
        shape[0] = t.shape[0];
        var acp = tensor(AlphasCumprod(), device: x0.device).index_select(0, t.to(x0.device));   // [B] double
        var signal = acp.sqrt().to_type(x0.dtype).reshape(shape);
        var sigma = (1.0 - acp).sqrt().to_type(x0.dtype).reshape(shape);
        return (signal * x0 + sigma * noise).MoveToOuterDisposeScope();
    }

    /// <summary>e.g. <c>scaled_linear(beta_start=0.00085, beta_end=0.012, steps=1000)</c>: logs, messages and run identities.</summary>
    public override string ToString() => TrainedBetas.Count > 0
        ? $"trained_betas(steps={TrainSteps.ToString(CultureInfo.InvariantCulture)}, sha256={TrainedBetasDigest()})"
        : $"{KindName}(beta_start={Num(BetaStart)}, beta_end={Num(BetaEnd)}, steps={TrainSteps.ToString(CultureInfo.InvariantCulture)})";

    /// <summary>diffusers' <c>betas_for_alpha_bar</c> with the cosine transform, in double as Python computes it.</summary>
    private double[] CosineBetas()
    {
        static double AlphaBar(double s) => Math.Pow(Math.Cos((s + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new double[TrainSteps];
        for (int i = 0; i < TrainSteps; i++)
            betas[i] = Math.Min(1 - AlphaBar((i + 1) / (double)TrainSteps) / AlphaBar(i / (double)TrainSteps), 0.999);
        return betas;
    }

    private string TrainedBetasDigest()
    {
        var bytes = new byte[TrainedBetas.Count * sizeof(double)];
        for (int i = 0; i < TrainedBetas.Count; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * sizeof(double)), TrainedBetas[i]);
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
