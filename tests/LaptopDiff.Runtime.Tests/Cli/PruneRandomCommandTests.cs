using System.Text.Json;
using LaptopDiff.Runtime.Specs;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>prune --random SEED --ratio R</c>: the random baseline written as a pruned spec like the knapsack's.</summary>
public class PruneRandomCommandTests
{
    private static string Spec => Path.Combine(TestPaths.RepoRoot, "models", "digits.unet.yaml");

    private static (string[] Removed, double Ratio, string Output) Prune(TempFolder temp, long seed, string file)
    {
        var output = temp.File(file);
        var (code, stdout, error) = CliRunner.Run("prune", "--random", seed.ToString(), "--ratio", "0.5", "--spec", Spec, "--output", output, "--json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(stdout);
        var removed = doc.RootElement.GetProperty("removed").EnumerateArray().Select(e => e.GetString()!).ToArray();
        return (removed, doc.RootElement.GetProperty("ratio").GetDouble(), output);
    }

    [Fact]
    public void ASeededSubsetReachesTheRatioAndIsReproducible()
    {
        using var temp = new TempFolder();
        var first = Prune(temp, 3, "a.unet.yaml");
        var again = Prune(temp, 3, "b.unet.yaml");
        var other = Prune(temp, 4, "c.unet.yaml");
        Assert.True(first.Ratio >= 0.5, $"ratio {first.Ratio}");
        Assert.Equal(first.Removed, again.Removed);
        Assert.NotEqual(first.Removed.Order(), other.Removed.Order());

        var full = SpecFiles.LoadLayout(Spec);
        var pruned = SpecFiles.LoadLayout(first.Output);
        Assert.Equal(full.TotalParamCount - full.PrunableUnits.Where(u => first.Removed.Contains(u.Id)).Sum(u => u.ParamCount), pruned.TotalParamCount);
        Assert.StartsWith("a seeded random selection (seed 3)", pruned.Spec.Provenance!.Method);
    }

    [Theory]
    [InlineData("--criterion", "x.json")]
    [InlineData("--ratio", "0.3")]
    public void RandomTakesOneRatioAndNoCriterion(string flag, string value)
    {
        using var temp = new TempFolder();
        var (code, _, error) = CliRunner.Run("prune", "--random", "1", "--ratio", "0.5", flag, value, "--spec", Spec, "--output", temp.File("p.unet.yaml"));
        Assert.Equal(1, code);
        Assert.Contains("--random", error);
        Assert.False(File.Exists(temp.File("p.unet.yaml")));
    }
}
