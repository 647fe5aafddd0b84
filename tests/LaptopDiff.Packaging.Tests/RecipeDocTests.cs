namespace LaptopDiff.Packaging.Tests;

/// <summary>docs/package.md shows exactly what the packaging tests run, and the README points to it.</summary>
public sealed class RecipeDocTests
{
    private static readonly string Doc = Read(ConsumerRecipe.Doc);

    [Theory]
    [InlineData("bash", ConsumerRecipe.Setup)]
    [InlineData("xml", ConsumerRecipe.ProjectLines)]
    [InlineData("csharp", ConsumerRecipe.Program)]
    [InlineData("bash", ConsumerRecipe.BuildAndRun)]
    public void DocShowsTheBlock(string language, string block) =>
        Assert.Contains($"```{language}\n{block}\n```", Doc);

    [Fact]
    public void DocShowsThePackLineInTheFeedBlock() =>
        Assert.Contains($"```bash\nexport LAPTOPDIFF=$PWD FEED=$PWD/artifacts/feed\n{ConsumerRecipe.Pack}\n```", Doc);

    [Fact]
    public void DocShowsTheToolInstall() => Assert.Contains(ConsumerRecipe.ToolInstall, Doc);

    [Fact]
    public void ReadmePointsToTheDoc() => Assert.Contains($"]({ConsumerRecipe.Doc})", Read("README.md"));

    [Fact]
    public void RecipeNamesThePackagesVersion()
    {
        Assert.Contains($"--version {RepoPaths.Version} ", ConsumerRecipe.Setup);
        Assert.Contains($"--version {RepoPaths.Version} ", ConsumerRecipe.ToolInstall);
    }

    private static string Read(string relativePath) =>
        File.ReadAllText(Path.Combine(RepoPaths.Root, relativePath)).ReplaceLineEndings("\n");
}
