namespace LaptopDiff.Packaging.Tests;

/// <summary>The README's "Use it in your project" section shows exactly what the consumer tests run.</summary>
public sealed class ReadmeRecipeTests
{
    private static readonly string Section = ReadSection("## Use it in your project");

    [Theory]
    [InlineData("bash", ConsumerRecipe.Setup)]
    [InlineData("xml", ConsumerRecipe.ProjectLines)]
    [InlineData("csharp", ConsumerRecipe.Program)]
    [InlineData("bash", ConsumerRecipe.BuildAndRun)]
    public void ReadmeShowsTheBlock(string language, string block) =>
        Assert.Contains($"```{language}\n{block}\n```", Section);

    [Fact]
    public void ReadmeShowsTheToolInstall() => Assert.Contains(ConsumerRecipe.ToolInstall, Section);

    [Fact]
    public void RecipeNamesThePackagesVersion()
    {
        Assert.Contains($"--version {RepoPaths.Version} ", ConsumerRecipe.Setup);
        Assert.Contains($"--version {RepoPaths.Version} ", ConsumerRecipe.ToolInstall);
    }

    private static string ReadSection(string heading)
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md")).ReplaceLineEndings("\n");
        int start = readme.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{heading}' section");
        int end = readme.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? readme[start..] : readme[start..end];
    }
}
