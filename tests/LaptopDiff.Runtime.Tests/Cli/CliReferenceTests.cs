using LaptopDiff.Cli.Help;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>docs/cli.md is the commands' own help, regenerated here; the README points to it.</summary>
public sealed class CliReferenceTests
{
    private static readonly string DocPath = Path.Combine(TestPaths.RepoRoot, "docs", "cli.md");

    [Fact]
    public void DocsCliMdIsTheCommandsHelp()
    {
        var committed = File.ReadAllText(DocPath).ReplaceLineEndings("\n");
        Assert.True(committed == CliReference.Render(),
            $"docs/cli.md differs from the commands' help; run `{CliReference.UpdateCommand}` from the repository root and commit the result");
    }

    [Fact]
    public void TheDocsCommandWritesTheReference()
    {
        using var temp = new TempFolder();
        var (code, _, error) = CliRunner.Run("docs", "--output", temp.File("cli.md"));
        Assert.True(code == 0, error);
        Assert.Equal(CliReference.Render(), File.ReadAllText(temp.File("cli.md")));
    }

    [Fact]
    public void ReadmePointsToTheReference() =>
        Assert.Contains("](docs/cli.md)", File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md")));
}
