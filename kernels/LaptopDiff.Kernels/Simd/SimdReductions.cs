using System.Numerics;
using System.Runtime.CompilerServices;

namespace LaptopDiff.Kernels;

/// <summary>
/// The inner loops of the SIMD path, over raw float memory. Floats are widened to double before
/// subtracting, so each difference and square is exact and the sums only round when accumulating
/// (in double). Two independent accumulator pairs per quantity hide the add latency.
/// </summary>
internal static unsafe class SimdReductions
{
    /// <summary>sum_i (s[i] - t[i])^2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot loop: skip tier-0 code
    public static double SquaredError(float* t, float* s, long n)
    {
        int w = Vector<float>.Count;
        var e0 = Vector<double>.Zero; var e1 = Vector<double>.Zero;
        var e2 = Vector<double>.Zero; var e3 = Vector<double>.Zero;
        long i = 0;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            Vector.Widen(Vector.Load(t + i), out var tl, out var th);
            Vector.Widen(Vector.Load(s + i), out var sl, out var sh);
            Vector.Widen(Vector.Load(t + i + w), out var tl2, out var th2);
            Vector.Widen(Vector.Load(s + i + w), out var sl2, out var sh2);
            var dl = sl - tl; var dh = sh - th; var dl2 = sl2 - tl2; var dh2 = sh2 - th2;
            e0 = Vector.MultiplyAddEstimate(dl, dl, e0); e1 = Vector.MultiplyAddEstimate(dh, dh, e1);
            e2 = Vector.MultiplyAddEstimate(dl2, dl2, e2); e3 = Vector.MultiplyAddEstimate(dh2, dh2, e3);
        }
        double sum = Vector.Sum((e0 + e1) + (e2 + e3));
        for (; i < n; i++) { double d = (double)s[i] - t[i]; sum += d * d; }
        return sum;
    }

    /// <summary>(sum_i (s[i] - t[i])^2, sum_i t[i]^2) in one pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot loop: skip tier-0 code
    public static (double SquaredError, double TeacherSquaredNorm) SquaredErrorAndNorm(float* t, float* s, long n)
    {
        int w = Vector<float>.Count;
        var e0 = Vector<double>.Zero; var e1 = Vector<double>.Zero;
        var n0 = Vector<double>.Zero; var n1 = Vector<double>.Zero;
        long i = 0;
        for (; i <= n - w; i += w)
        {
            Vector.Widen(Vector.Load(t + i), out var tl, out var th);
            Vector.Widen(Vector.Load(s + i), out var sl, out var sh);
            var dl = sl - tl; var dh = sh - th;
            e0 = Vector.MultiplyAddEstimate(dl, dl, e0); e1 = Vector.MultiplyAddEstimate(dh, dh, e1);
            n0 = Vector.MultiplyAddEstimate(tl, tl, n0); n1 = Vector.MultiplyAddEstimate(th, th, n1);
        }
        double sse = Vector.Sum(e0 + e1), norm = Vector.Sum(n0 + n1);
        for (; i < n; i++)
        {
            double tv = t[i], d = s[i] - tv;
            sse += d * d; norm += tv * tv;
        }
        return (sse, norm);
    }

    /// <summary>g[i] = (float)(scale * (s[i] - t[i])), the product taken in double so a scale beyond
    /// float range (tiny teacher norms) cannot overflow before the difference shrinks it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot loop: skip tier-0 code
    public static void ScaledDifference(float* t, float* s, float* g, long n, double scale)
    {
        int w = Vector<float>.Count;
        var k = new Vector<double>(scale);
        long i = 0;
        for (; i <= n - w; i += w)
        {
            Vector.Widen(Vector.Load(t + i), out var tl, out var th);
            Vector.Widen(Vector.Load(s + i), out var sl, out var sh);
            Vector.Store(Vector.Narrow(k * (sl - tl), k * (sh - th)), g + i);
        }
        for (; i < n; i++) g[i] = (float)(scale * ((double)s[i] - t[i]));
    }

    public static string VectorDescription() =>
        $"Vector<float> x{Vector<float>.Count}{(Vector.IsHardwareAccelerated ? "" : " (not accelerated)")}";
}
