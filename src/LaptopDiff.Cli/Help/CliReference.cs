using System.CommandLine;
using System.CommandLine.Help;
using System.Text;

namespace LaptopDiff.Cli.Help;

/// <summary>
/// docs/cli.md: the help of the root and of every visible command, exactly as <c>laptop-diff COMMAND --help</c>
/// prints it at <see cref="Width"/> columns, after a preface on what every command shares. The hidden
/// <c>laptop-diff docs</c> command writes it; a test checks the committed file against it.
/// </summary>
public static class CliReference
{
    public const int Width = 100;
    public const string UpdateCommand = "dotnet run --project src/LaptopDiff.Cli -c Release -- docs --output docs/cli.md";

    private const string Preface = $"""
        # laptop-diff command reference

        <!-- Generated from the commands' help by `{UpdateCommand}`; edit the help texts in src/LaptopDiff.Cli, not this file. -->

        `laptop-diff COMMAND --help` prints each section below; `laptop-diff --version` prints the version.

        Every command that takes these options means the same by them:

        - `--spec SPEC`: a `*.unet.yaml` spec (a pruned spec resolves its `base:`) or, where the command says so,
          a diffusers `config.json`.
        - `-o, --output PATH`: what the command writes (a file or a folder, as its help says). Files are written
          atomically: a failed run leaves no half-written file.
        - `--json`: one JSON object on stdout instead of text; progress goes to stderr.
        - `--threads N`: CPU threads for libtorch and the fused kernels, at least 1 (default: libtorch's choice).
        - `--seed S`: the seed of what the command draws at random (default 0).

        Exit codes, the same for every command:

        | code | meaning |
        |---:|---|
        | 0 | done |
        | 1 | the command line is malformed: an unknown command or option, a missing required option, a value that does not parse as its type, options that do not go together |
        | 2 | the input is wrong: an option value the command cannot use (`--threads 0`, `--steps 0`, a height not a multiple of 8, scheduler variables that `sweep --shard auto` cannot use) or a file (spec, config, criterion, weights, data or checkpoint) missing, malformed or not fitting the run; the message names the flag or file and what to do |
        | 3 | the run failed (out of memory, a NaN loss, a bug) |
        | 130 | `train`/`distill` stopped by SIGINT/SIGTERM after writing a checkpoint; rerun with `--resume` |

        """;

    /// <summary>The reference for the command tree of <see cref="CliApp.Create"/>.</summary>
    public static string Render()
    {
        var root = CliApp.Create(new CliContext(TextWriter.Null, TextWriter.Null));
        var text = new StringBuilder(Preface).Append('\n');
        foreach (var (path, _) in Walk(root).Where(c => !c.Command.Hidden))
        {
            text.Append(path.Length == 0 ? "## laptop-diff\n\n" : $"## laptop-diff {path}\n\n");
            text.Append("```text\n").Append(Help(root, path).TrimEnd()).Append("\n```\n\n");
        }
        return text.ToString().TrimEnd() + "\n";
    }

    /// <summary>Every command under <paramref name="root"/> and itself (path ""), depth first in declaration order.</summary>
    public static IEnumerable<(string Path, Command Command)> Walk(Command root)
    {
        yield return ("", root);
        foreach (var sub in root.Subcommands)
            foreach (var (path, command) in Walk(sub))
                yield return (path.Length == 0 ? sub.Name : $"{sub.Name} {path}", command);
    }

    private static string Help(Command root, string path)
    {
        var help = (DetailedHelpAction)root.Options.OfType<HelpOption>().Single().Action!;
        help.MaxWidth = Width;
        var output = new StringWriter { NewLine = "\n" };
        root.Parse([.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"])
            .Invoke(new InvocationConfiguration { Output = output, Error = output });
        return string.Join("\n", output.ToString().Split('\n').Select(l => l.TrimEnd()));
    }
}
