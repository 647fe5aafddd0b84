using System.CommandLine;

namespace LaptopDiff.Cli.Options;

/// <summary><c>--json</c>: the command prints one JSON object on stdout instead of text (progress stays on stderr).</summary>
public sealed class JsonOption : Option<bool>
{
    public const string OptionName = "--json";
    public const string Summary = "Print one JSON object instead of text";

    public JsonOption(string? fields) : base(OptionName)
    {
        Description = fields == null ? Summary : $"{Summary}: {fields}";
    }
}
