namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// The students the demo trains at one ratio and one step budget: LAPTOP (output-loss knapsack over parameters, or
/// over measured latency) with normalized KD, and the baselines that isolate each half of the method.
/// </summary>
/// <param name="Id">Folder and table key.</param>
/// <param name="Pruning">Which pruned spec it starts from (<see cref="Laptop"/>, <see cref="Handcrafted"/>, <see cref="Random"/>, <see cref="LaptopLatency"/>): also its row in compare.json.</param>
/// <param name="FeatureLoss">distill's --feature-loss.</param>
public sealed record DemoMethod(string Id, string Label, string Pruning, string FeatureLoss)
{
    public const string Laptop = "laptop";
    public const string Random = "random";
    public const string Handcrafted = "bk-sdm-small";
    public const string LaptopLatency = "laptop-latency";

    public static IReadOnlyList<DemoMethod> All { get; } =
    [
        new("laptop-normalized", "LAPTOP + normalized KD (ours)", Laptop, "normalized"),
        new("bk-sdm-vanilla", "BK-SDM-Small preset + vanilla KD (BK-SDM recipe)", Handcrafted, "vanilla"),
        new("laptop-vanilla", "LAPTOP + vanilla KD", Laptop, "vanilla"),
        new("random-normalized", "random + normalized KD", Random, "normalized"),
        new("laptop-latency-normalized", "LAPTOP at 50% latency + normalized KD", LaptopLatency, "normalized"),
    ];

    /// <summary>The pruned spec and initial weights' file stem under pruning/.</summary>
    public static string PrunedName(string pruning) => pruning switch { Handcrafted => "handcrafted", LaptopLatency => "latency", _ => pruning };
}
