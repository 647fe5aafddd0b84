namespace LaptopDiff.Cli;

/// <summary>Where a command writes: the console in the tool, string writers in tests.</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error);
