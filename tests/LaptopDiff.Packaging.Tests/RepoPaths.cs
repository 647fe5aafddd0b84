using System.Reflection;

namespace LaptopDiff.Packaging.Tests;

/// <summary>The repository root (the folder holding LaptopDiff.sln), the build configuration and the version.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();
    public static string Models => Path.Combine(Root, "models");

    /// <summary>Debug or Release: what this test assembly (and so the projects it references) was built as.</summary>
    public static string Configuration { get; } = typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "Configuration").Value!;

    /// <summary>Directory.Build.props' Version, which this assembly shares with the packages.</summary>
    public static string Version { get; } =
        typeof(RepoPaths).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LaptopDiff.sln"))) return dir.FullName;
        throw new InvalidOperationException("LaptopDiff.sln not found above " + AppContext.BaseDirectory);
    }
}
