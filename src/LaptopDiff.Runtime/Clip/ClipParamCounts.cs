namespace LaptopDiff.Runtime.Clip;

/// <summary>Parameter counts of the pieces both CLIP towers share, from their sizes alone.</summary>
internal static class ClipParamCounts
{
    public static long LayerNorm(int width) => 2L * width;

    public static long Linear(int inputs, int outputs, bool bias = true) => (long)inputs * outputs + (bias ? outputs : 0);

    /// <summary>q, k, v, out projections with biases; two LayerNorms; fc1 and fc2 with biases.</summary>
    public static long EncoderLayer(int hidden, int intermediate) =>
        4 * Linear(hidden, hidden) + 2 * LayerNorm(hidden) + Linear(hidden, intermediate) + Linear(intermediate, hidden);
}
