using TorchSharp;

namespace LaptopDiff.Kernels.Tests;

/// <summary>Fresh random inputs each run (the seed is in every failure message), never exactly zero.</summary>
internal sealed class TestData
{
    public int Seed { get; }
    private readonly torch.Generator _generator;

    public TestData(int? seed = null)
    {
        Seed = seed ?? Random.Shared.Next();
        _generator = new torch.Generator((ulong)Seed);
    }

    /// <summary>Values with magnitude in [0.5, 1.5) * scale and a random sign.</summary>
    public torch.Tensor NonZero(long[] shape, double scale = 1.0)
    {
        using var magnitude = torch.rand(shape, dtype: torch.float64, generator: _generator).add_(0.5);
        using var sign = torch.randint(0, 2, shape, dtype: torch.float64, generator: _generator).mul_(2).sub_(1);
        return (magnitude * sign * scale).to(torch.float32);
    }

    /// <summary>A student near the teacher: teacher + small non-zero noise (as after distillation).</summary>
    public torch.Tensor Near(torch.Tensor teacher, double relative = 0.1)
    {
        using var noise = NonZero(teacher.shape, relative);
        return (teacher.to(torch.float64) + noise.to(torch.float64) * teacher.to(torch.float64).abs()).to(torch.float32);
    }

    public string Tag => $"(seed {Seed})";
}

internal static class Reference
{
    public static double SquaredError(torch.Tensor t, torch.Tensor s)
    {
        using var d = s.to(torch.float64) - t.to(torch.float64);
        return d.pow(2).sum().ToDouble();
    }

    public static double SquaredNorm(torch.Tensor t) => t.to(torch.float64).pow(2).sum().ToDouble();

    public static double RelativeError(double actual, double expected) =>
        expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);

    /// <summary>max |a - e| / max |e| (inf-norm relative error of a whole tensor).</summary>
    public static double RelativeError(torch.Tensor actual, torch.Tensor expected)
    {
        using var e = expected.to(torch.float64);
        using var a = actual.to(torch.float64);
        double scale = e.abs().max().ToDouble();
        double diff = (a - e).abs().max().ToDouble();
        return scale == 0 ? diff : diff / scale;
    }
}
