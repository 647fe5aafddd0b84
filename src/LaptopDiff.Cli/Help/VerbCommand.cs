using System.CommandLine;

namespace LaptopDiff.Cli.Help;

/// <summary>
/// A command with details: the prose its help prints after the options (what it computes, writes and refuses),
/// kept apart from its one-line description so that command lists stay short. docs/cli.md is this help
/// (<see cref="CliReference"/>). Write the details wrapped at about 100 columns; blank lines separate paragraphs.
/// </summary>
public class VerbCommand(string name, string description, string details) : Command(name, description)
{
    public string Details { get; } = details;
}
