using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace LaptopDiff.Cli.Help;

/// <summary>System.CommandLine's help, followed by a <see cref="VerbCommand"/>'s details.</summary>
public sealed class DetailedHelpAction(HelpAction standard) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    /// <summary>Columns the help wraps at (System.CommandLine's default: the terminal's width).</summary>
    public int MaxWidth
    {
        get => standard.MaxWidth;
        set => standard.MaxWidth = value;
    }

    public override int Invoke(ParseResult parseResult)
    {
        int code = standard.Invoke(parseResult);
        if (parseResult.CommandResult.Command is VerbCommand verb)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Details:");
            foreach (var line in verb.Details.ReplaceLineEndings("\n").TrimEnd().Split('\n'))
                output.WriteLine(line.Length == 0 ? "" : "  " + line);
            output.WriteLine();
        }
        return code;
    }
}
