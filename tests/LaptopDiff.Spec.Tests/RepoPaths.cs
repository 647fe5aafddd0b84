namespace LaptopDiff.Spec.Tests;

/// <summary>Finds the repository root (the folder holding LaptopDiff.sln) and the shared fixtures beside it.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();
    public static string Models => Path.Combine(Root, "models");
    public static string Fixtures => Path.Combine(Root, "..", "shared", "fixtures", "diffusers");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LaptopDiff.sln"))) return dir.FullName;
        throw new InvalidOperationException("LaptopDiff.sln not found above " + AppContext.BaseDirectory);
    }
}
