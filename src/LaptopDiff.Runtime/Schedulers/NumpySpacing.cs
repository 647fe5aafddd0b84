namespace LaptopDiff.Runtime.Schedulers;

/// <summary>
/// The numpy functions diffusers spaces timesteps and interpolates sigmas with, computed the way numpy does
/// (float64, same operation order), so a fractional timestep or sigma rounds to the same float32.
/// </summary>
internal static class NumpySpacing
{
    /// <summary><c>np.linspace(start, stop, num)</c>: i * ((stop - start) / (num - 1)) + start, the last set to stop.</summary>
    public static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        if (num == 1) { y[0] = start; return y; }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) y[i] = i * step + start;
        y[num - 1] = stop;
        return y;
    }

    /// <summary>
    /// <c>np.arange(start, stop, step)</c> for floats: ceil((stop - start) / step) values; numpy stores start and
    /// start + step, then fills value i as start + i * delta with delta = (start + step) - start.
    /// </summary>
    public static double[] Arange(double start, double stop, double step)
    {
        int length = (int)Math.Max(0, Math.Ceiling((stop - start) / step));
        var y = new double[length];
        if (length == 0) return y;
        y[0] = start;
        if (length == 1) return y;
        y[1] = start + step;
        double delta = y[1] - start;
        for (int i = 2; i < length; i++) y[i] = start + i * delta;
        return y;
    }

    /// <summary><c>np.round</c>: to the nearest integer, halves to even.</summary>
    public static double Round(double x) => Math.Round(x, MidpointRounding.ToEven);

    /// <summary>
    /// <c>np.interp(x, arange(len(fp)), fp)</c>: fp[0] left of 0, fp[^1] from len-1 on, fp[j] at an integer,
    /// else slope * (x - j) + fp[j] with slope = fp[j+1] - fp[j].
    /// </summary>
    public static double InterpOnIndices(double x, IReadOnlyList<double> fp)
    {
        int last = fp.Count - 1;
        if (x < 0) return fp[0];
        if (x >= last) return fp[last];
        int j = (int)Math.Floor(x);
        if (x == j) return fp[j];
        double slope = fp[j + 1] - fp[j];                                  // over xp[j+1] - xp[j] = 1
        return slope * (x - j) + fp[j];
    }
}
