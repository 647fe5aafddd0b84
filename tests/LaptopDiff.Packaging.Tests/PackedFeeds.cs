using System.Runtime.InteropServices;

namespace LaptopDiff.Packaging.Tests;

/// <summary>
/// A local folder feed with the LaptopDiff package, packed once for the consumer tests by docs/package.md's own pack
/// line, run from the repository root as a reader runs it (it builds what it packs; the test project's references
/// have built it already, so that build finds everything up to date).
/// </summary>
public sealed class LibraryFeed : IDisposable
{
    private readonly TempFolder _folder = new("laptopdiff-feed-");

    public LibraryFeed()
    {
        Pack = new Shell(RepoPaths.Root, new Dictionary<string, string> { ["FEED"] = Path }).Check(ConsumerRecipe.Pack);
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
/// NuGet settings for the processes a test starts. Packing inside the repository uses the machine's global
/// packages folder as is. A consumer gets a packages folder of its own and, as a read-only fallback (TorchSharp
/// and the rest come from there, not from the network), a view of the global folder without this repository's
/// packages: a LaptopDiff or laptop-diff of the same version left there by anyone who followed docs/package.md would
/// otherwise win over the one just packed, since a fallback folder comes before every source.
/// </summary>
internal static class NuGetEnvironment
{
    public static IReadOnlyDictionary<string, string> Repository { get; } = new Dictionary<string, string>();

    public static string GlobalPackagesFolder { get; } =
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>NuGet settings with <paramref name="work"/>/packages as the packages folder and a fallback view in <paramref name="work"/>/fallback.</summary>
    public static Dictionary<string, string> Isolated(TempFolder work) => new()
    {
        ["NUGET_PACKAGES"] = work.Sub("packages"),
        ["NUGET_FALLBACK_PACKAGES"] = FallbackView(GlobalPackagesFolder, work.Sub("fallback")),
    };

    /// <summary>
    /// Fills <paramref name="view"/> with a link to each package folder of <paramref name="global"/> except this
    /// repository's own (laptopdiff, laptop-diff, laptop-diff.RID); returns <paramref name="view"/>.
    /// </summary>
    public static string FallbackView(string global, string view)
    {
        foreach (var package in Directory.EnumerateDirectories(global))
        {
            var id = System.IO.Path.GetFileName(package);
            if (!IsOwnPackage(id)) Directory.CreateSymbolicLink(System.IO.Path.Combine(view, id), package);
        }
        return view;
    }

    /// <summary>The ids this repository packs, as the packages folder spells them (lower case).</summary>
    public static bool IsOwnPackage(string id) =>
        id is "laptopdiff" or "laptop-diff" || id.StartsWith("laptop-diff.", StringComparison.Ordinal);
}
