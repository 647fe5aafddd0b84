namespace LaptopDiff.Runtime.Tests;

/// <summary>Locates the repository and the shared reference fixtures (which live beside it, in ../shared).</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string DiffusersFixtures =>
        Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures", "diffusers"));

    public static string DiffusersFixture(string fileName) => Path.Combine(DiffusersFixtures, fileName);

    /// <summary>Tiny SD-1.5/SDXL pipeline folders, a CLIP scorer, their reference outputs, and the real models' configs (<c>configs/</c>).</summary>
    public static string SdPipelines =>
        Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures", "sd-pipelines"));

    public static string SdPipeline(string relativePath) => Path.Combine(SdPipelines, relativePath);

    /// <summary>Shared data sets (e.g. PartiPrompts.tsv).</summary>
    public static string SharedData(string fileName) =>
        Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data", fileName));

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LaptopDiff.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no LaptopDiff.sln above {AppContext.BaseDirectory}");
    }
}
