namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// The students the demo trains at one ratio and one step budget: LAPTOP (output-loss knapsack) with
/// normalized KD, and the baselines that isolate each half of the method.
/// </summary>
/// <param name="Id">Folder and table key.</param>
/// <param name="Pruning">laptop (knapsack over the sweep's criterion), a handcrafted preset name, or random.</param>
/// <param name="FeatureLoss">distill's --feature-loss.</param>
public sealed record DemoMethod(string Id, string Label, string Pruning, string FeatureLoss)
{
    public const string Laptop = "laptop";
    public const string Random = "random";
    public const string Handcrafted = "bk-sdm-small";

    public static IReadOnlyList<DemoMethod> All { get; } =
    [
        new("laptop-normalized", "LAPTOP + normalized KD (ours)", Laptop, "normalized"),
        new("handcrafted-vanilla", "BK-SDM-Small preset + vanilla KD (BK-SDM recipe)", Handcrafted, "vanilla"),
        new("laptop-vanilla", "LAPTOP + vanilla KD", Laptop, "vanilla"),
        new("random-normalized", "random + normalized KD", Random, "normalized"),
    ];
}
