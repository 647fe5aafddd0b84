using Spectre.Console;

namespace LaptopDiff.Cli.IO;

/// <summary>
/// A Spectre progress bar (description, bar, percentage, elapsed, ETA) on stderr when it is a terminal. Elsewhere
/// (CI, files, tests) Spectre draws nothing, so the commands print plain lines instead.
/// </summary>
internal static class TerminalProgress
{
    public static bool IsTerminal(TextWriter error) => ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>Runs <paramref name="body"/> with one task (starting at <paramref name="description"/>) and the console for log lines.</summary>
    public static T Run<T>(TextWriter error, string description, Func<ProgressTask, IAnsiConsole, T> body)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx => result = body(ctx.AddTask(description, maxValue: 1), console));
        return result;
    }
}
