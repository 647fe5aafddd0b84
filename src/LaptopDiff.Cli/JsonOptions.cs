using System.Text.Json;

namespace LaptopDiff.Cli;

internal static class JsonOptions
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
