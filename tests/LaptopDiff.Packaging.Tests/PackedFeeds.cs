using System.Runtime.InteropServices;

namespace LaptopDiff.Packaging.Tests;

/// <summary>
/// A local folder feed with the LaptopDiff package, packed once for the consumer tests from this checkout's
/// build (no build of its own: the test project references src/LaptopDiff.Package, so it is built).
/// </summary>
public sealed class LibraryFeed : IDisposable
{
    private readonly TempFolder _folder = new("laptopdiff-feed-");

    public LibraryFeed()
    {
        Pack = new Shell(RepoPaths.Root, NuGetEnvironment.Repository)
            .Check($"dotnet pack src/LaptopDiff.Package -c {RepoPaths.Configuration} --no-build -nologo -o \"{Path}\"");
        Package = System.IO.Path.Combine(Path, $"LaptopDiff.{RepoPaths.Version}.nupkg");
    }

    public string Path => _folder.Path;
    public string Package { get; }
    internal Shell.Result Pack { get; }

    public void Dispose() => _folder.Dispose();
}

/// <summary>
/// A local folder feed with the laptop-diff tool packed for this machine's platform only (the shipped pack
/// makes one package per platform, each carrying its libtorch; one is what an install here uses).
/// </summary>
public sealed class ToolFeed : IDisposable
{
    private readonly TempFolder _folder = new("laptopdiff-toolfeed-");

    public ToolFeed()
    {
        Pack = new Shell(RepoPaths.Root, NuGetEnvironment.Repository)
            .Check($"dotnet pack src/LaptopDiff.Cli -c {RepoPaths.Configuration} -nologo -o \"{Path}\" -p:ToolPackageRuntimeIdentifiers={Rid}");
        Packages = Directory.GetFiles(Path, "*.nupkg").Order(StringComparer.Ordinal).ToList();
    }

    public static string Rid => RuntimeInformation.RuntimeIdentifier;
    public string Path => _folder.Path;
    public IReadOnlyList<string> Packages { get; }
    internal Shell.Result Pack { get; }

    public void Dispose() => _folder.Dispose();
}

/// <summary>
/// NuGet settings for the processes a test starts. Packing inside the repository uses the machine's
/// global packages folder as is. A consumer gets a packages folder of its own, so a LaptopDiff of the same
/// version left in the global folder by an earlier run cannot stand in for the one just packed, with the
/// global folder as a read-only fallback: TorchSharp and the rest come from there, not from the network.
/// </summary>
internal static class NuGetEnvironment
{
    public static IReadOnlyDictionary<string, string> Repository { get; } = new Dictionary<string, string>();

    public static string GlobalPackagesFolder { get; } =
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public static Dictionary<string, string> Isolated(string packagesFolder) => new()
    {
        ["NUGET_PACKAGES"] = packagesFolder,
        ["NUGET_FALLBACK_PACKAGES"] = GlobalPackagesFolder,
    };
}
