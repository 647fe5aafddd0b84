using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning.Baselines;

/// <summary>The methods <c>laptop-diff compare</c> knows, by the names its <c>--methods</c> option takes.</summary>
public static class BaselineMethods
{
    /// <summary>The exact knapsack over the output-loss criterion file (the method).</summary>
    public const string Laptop = "laptop";
    public const string Random = "random";
    public const string Magnitude = "magnitude";

    /// <summary>Every method, in the order they are reported: the method, the handcrafted presets, then random and magnitude.</summary>
    public static IReadOnlyList<string> All { get; } = new[] { Laptop }.Concat(PruningPresets.Names).Concat(new[] { Random, Magnitude }).ToList();
}
