using System.Globalization;
using LaptopDiff.Cli.IO;
using LaptopDiff.Runtime.Training;
using Spectre.Console;

namespace LaptopDiff.Cli.Commands.Train;

/// <summary>
/// Training progress on stderr: a Spectre bar with the loss terms, steps/s and ETA on a terminal;
/// otherwise (CI, files, tests) a plain line every <c>every</c> steps and at the last one.
/// </summary>
internal static class TrainingProgressView
{
    public static T Run<T>(TextWriter error, string verb, int every, Func<Action<TrainingProgress>, Action<string>, T> body)
    {
        if (!TerminalProgress.IsTerminal(error))
            return body(p =>
            {
                if (p.Step % every == 0 || p.Step == p.Steps) error.WriteLine($"[{verb}] {Line(p)}");
            }, line => error.WriteLine($"[{verb}] {line}"));

        return TerminalProgress.Run(error, $"{verb}: starting", (task, console) => body(p =>
        {
            task.MaxValue = p.Steps;
            task.Value = p.Step;
            task.Description = Markup.Escape(Line(p));
        }, line => console.WriteLine($"[{verb}] {line}")));
    }

    public static string Line(TrainingProgress p)
    {
        var terms = string.Join(" ", p.Terms.Where(t => !t.Key.Contains('/')).Select(t => $"{t.Key} {t.Value:G4}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}/{p.Steps} {terms} lr {p.LearningRate:G3} |g| {p.GradNorm:G3}, {p.StepsPerSecond:F2} steps/s, ETA {(p.Eta is { } e ? e.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : "?")}");
    }
}
