using System.CommandLine;

namespace LaptopDiff.Cli.Options;

/// <summary>
/// The options many commands share, each defined once: its name, aliases, type, checks and the start of its
/// description. Every call makes a new option for one command, described for what it means there.
/// <see cref="CommandRunner"/> applies <c>--threads</c>; <c>CommonOptionsTests</c> walks every command to check
/// that each of these names is declared here and behaves the same.
/// </summary>
public static class CommonOptions
{
    public const string SpecName = "--spec";
    public const string OutputName = "--output";
    public const string OutputAlias = "-o";
    public const string SeedName = "--seed";

    public const string AnySpec = "A *.unet.yaml spec or a diffusers config.json";

    /// <summary>A model's spec file.</summary>
    public static Option<FileInfo> Spec(string description = AnySpec, bool required = true) =>
        new(SpecName) { Description = description, Required = required };

    /// <summary>
    /// What a command writes: a file (<see cref="FileInfo"/>), a folder (<see cref="DirectoryInfo"/>) or a path
    /// pattern (<see cref="string"/>).
    /// </summary>
    public static Option<T> Output<T>(string description, bool required = true) =>
        new(OutputName, OutputAlias) { Description = description, Required = required };

    /// <summary><c>--json</c>: one JSON object on stdout instead of text; <paramref name="fields"/> lists what it holds.</summary>
    public static JsonOption Json(string? fields = null) => new(fields);

    /// <summary><c>--threads</c>: CPU threads for libtorch and the fused kernels, at least 1.</summary>
    public static ThreadsOption Threads() => new();

    /// <summary><c>--seed</c>, default 0: the seed of <paramref name="what"/>.</summary>
    public static Option<long> Seed(string what) =>
        new(SeedName) { Description = $"Seed of {what}", DefaultValueFactory = _ => 0 };
}
