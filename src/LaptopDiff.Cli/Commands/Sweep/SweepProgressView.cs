using System.Globalization;
using LaptopDiff.Cli.IO;
using LaptopDiff.Runtime.Pruning;
using Spectre.Console;

namespace LaptopDiff.Cli.Commands.Sweep;

/// <summary>
/// Sweep progress on stderr: a Spectre progress bar with ETA on a terminal; otherwise (CI, files, tests),
/// where Spectre draws nothing, one plain line per group of ablations.
/// </summary>
internal static class SweepProgressView
{
    /// <summary>Runs <paramref name="body"/> with a progress callback and a log callback that fit the output.</summary>
    public static T Run<T>(TextWriter error, Func<Action<SweepProgress>, Action<string>, T> body)
    {
        if (!TerminalProgress.IsTerminal(error))
            return body(p => error.WriteLine(PlainLine(p)), line => error.WriteLine($"[sweep] {line}"));

        return TerminalProgress.Run(error, "sweep: loading", (task, console) =>
        {
            var result = body(p =>
            {
                task.MaxValue = Math.Max(1, p.Total);
                task.Value = p.Done;
                task.Description = Markup.Escape($"batch {p.Batch}/{p.Batches}, units {p.UnitsComplete}/{p.Units} done, {p.Unit}");
            }, line => console.WriteLine($"[sweep] {line}"));
            task.Value = task.MaxValue;
            return result;
        });
    }

    public static string PlainLine(SweepProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"[sweep] {p.Done}/{p.Total} ablations ({100.0 * p.Done / Math.Max(1, p.Total):F0}%), batch {p.Batch}/{p.Batches}, {p.Unit}; " +
        $"units complete {p.UnitsComplete}/{p.Units}; elapsed {Format(p.Elapsed)}, ETA {(p.Eta is { } eta ? Format(eta) : "?")}");

    private static string Format(TimeSpan t) => t.TotalHours >= 1
        ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : t.ToString(@"m\:ss\.f", CultureInfo.InvariantCulture);
}
