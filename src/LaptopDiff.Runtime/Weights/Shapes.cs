namespace LaptopDiff.Runtime.Weights;

internal static class Shapes
{
    /// <summary>Formats like the keys.tsv fixtures and diffusers' messages: <c>[320,4,3,3]</c>, scalar <c>[]</c>.</summary>
    public static string Format(IEnumerable<long> shape) => "[" + string.Join(",", shape) + "]";
}
