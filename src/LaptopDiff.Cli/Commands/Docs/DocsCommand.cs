using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.IO;
using LaptopDiff.Cli.Options;

namespace LaptopDiff.Cli.Commands.Docs;

/// <summary><c>laptop-diff docs [--output docs/cli.md]</c> (hidden, for maintainers): the command reference from every command's help.</summary>
public static class DocsCommand
{
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("The Markdown file to write (default: stdout)", required: false);

    public static Command Create(CliContext context)
    {
        var command = new Command("docs", "Write the command reference (docs/cli.md) from every command's help") { OutputOption };
        command.Hidden = true;
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var reference = CliReference.Render();
            if (parse.GetValue(OutputOption) is { } file)
            {
                TextOutputs.Write(file.FullName, reference);
                context.Out.WriteLine($"wrote {file.FullName}");
            }
            else context.Out.Write(reference);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
