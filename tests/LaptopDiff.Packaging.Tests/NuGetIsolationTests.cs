namespace LaptopDiff.Packaging.Tests;

/// <summary>
/// The consumer tests restore from a fallback view of the global packages folder without this repository's
/// packages, so a stale LaptopDiff or laptop-diff of the same version planted there cannot be picked.
/// </summary>
public sealed class NuGetIsolationTests
{
    [Fact]
    public void FallbackViewLeavesOutThisRepositorysPackages()
    {
        using var work = new TempFolder("laptopdiff-nuget-");
        var global = work.Sub("global");
        string[] own = ["laptopdiff", "laptop-diff", "laptop-diff.linux-x64"];
        string[] others = ["laptopdiff.extra", "torchsharp", "yamldotnet"];
        foreach (var id in own.Concat(others))
        {
            var folder = Directory.CreateDirectory(Path.Combine(global, id, RepoPaths.Version)).FullName;
            File.WriteAllText(Path.Combine(folder, $"{id}.{RepoPaths.Version}.nupkg.sha512"), "stale");
        }

        var view = NuGetEnvironment.FallbackView(global, work.Sub("view"));

        Assert.Equal(others, Directory.GetDirectories(view).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        Assert.True(File.Exists(Path.Combine(view, "torchsharp", RepoPaths.Version, $"torchsharp.{RepoPaths.Version}.nupkg.sha512")));
        Assert.True(File.Exists(Path.Combine(global, "laptopdiff", RepoPaths.Version, $"laptopdiff.{RepoPaths.Version}.nupkg.sha512")));
    }
}
