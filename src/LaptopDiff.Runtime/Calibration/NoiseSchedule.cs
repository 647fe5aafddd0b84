using System.Globalization;

namespace LaptopDiff.Runtime.Calibration;

/// <summary>How betas grow over the training schedule (diffusers' <c>beta_schedule</c>).</summary>
public enum BetaSchedule
{
    /// <summary>betas = linspace(sqrt(beta_start), sqrt(beta_end), T)^2 (Stable Diffusion's schedule).</summary>
    ScaledLinear,
    /// <summary>betas = linspace(beta_start, beta_end, T) (the original DDPM schedule).</summary>
    Linear,
}

/// <summary>
/// A DDPM training noise schedule: x_t = sqrt(acp_t) x_0 + sqrt(1 - acp_t) eps, with
/// acp_t = prod_{s &lt;= t} (1 - beta_s) for t in [0, T). Computed in double (diffusers' DDPMScheduler uses
/// float32; the two differ by about 1e-7 relative, far below what a criterion resolves). The default is
/// Stable Diffusion's (scaled linear, 0.00085 to 0.012, 1000 steps).
/// </summary>
public sealed record NoiseSchedule
{
    public BetaSchedule Kind { get; init; } = BetaSchedule.ScaledLinear;
    public double BetaStart { get; init; } = 0.00085;
    public double BetaEnd { get; init; } = 0.012;
    /// <summary>T, the number of training timesteps.</summary>
    public int TrainSteps { get; init; } = 1000;

    public static NoiseSchedule StableDiffusion { get; } = new();

    /// <summary>The schedule's name in files and on the command line: <c>scaled_linear</c> or <c>linear</c>.</summary>
    public string KindName => Kind == BetaSchedule.ScaledLinear ? "scaled_linear" : "linear";

    public static BetaSchedule ParseKind(string name) => name switch
    {
        "scaled_linear" => BetaSchedule.ScaledLinear,
        "linear" => BetaSchedule.Linear,
        _ => throw new ArgumentException($"unknown beta schedule '{name}'; expected scaled_linear or linear"),
    };

    /// <summary>Throws <see cref="ArgumentException"/> for a schedule that is not a valid DDPM schedule.</summary>
    public NoiseSchedule Validate()
    {
        if (TrainSteps < 2) throw new ArgumentException($"the schedule needs at least 2 training steps, got {TrainSteps}");
        if (!(BetaStart > 0 && BetaEnd > 0 && BetaStart < 1 && BetaEnd < 1))
            throw new ArgumentException($"betas must be in (0, 1), got beta_start {Num(BetaStart)} and beta_end {Num(BetaEnd)}");
        return this;
    }

    /// <summary>beta_t for t in [0, T).</summary>
    public double[] Betas()
    {
        Validate();
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

    /// <summary>alphas_cumprod: acp_t = prod_{s &lt;= t} (1 - beta_s).</summary>
    public double[] AlphasCumprod()
    {
        var betas = Betas();
        var acp = new double[betas.Length];
        double running = 1.0;
        for (int t = 0; t < betas.Length; t++) acp[t] = running *= 1.0 - betas[t];
        return acp;
    }

    /// <summary>e.g. <c>scaled_linear(beta_start=0.00085, beta_end=0.012, steps=1000)</c>: logs and messages.</summary>
    public override string ToString() =>
        $"{KindName}(beta_start={Num(BetaStart)}, beta_end={Num(BetaEnd)}, steps={TrainSteps.ToString(CultureInfo.InvariantCulture)})";

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
