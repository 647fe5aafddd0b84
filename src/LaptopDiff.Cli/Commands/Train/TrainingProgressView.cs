using System.Globalization;
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
        if (!(ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected))
            return body(p =>
            {
                if (p.Step % every == 0 || p.Step == p.Steps) error.WriteLine($"[{verb}] {Line(p)}");
            }, line => error.WriteLine($"[{verb}] {line}"));

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"{verb}: starting", maxValue: 1);
                result = body(p =>
                {
                    task.MaxValue = p.Steps;
                    task.Value = p.Step;
                    task.Description = Markup.Escape(Line(p));
                }, line => console.WriteLine($"[{verb}] {line}"));
            });
        return result;
    }

    public static string Line(TrainingProgress p)
    {
        var terms = string.Join(" ", p.Terms.Where(t => !t.Key.Contains('/')).Select(t => $"{t.Key} {t.Value:G4}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}/{p.Steps} {terms} lr {p.LearningRate:G3} |g| {p.GradNorm:G3}, {p.StepsPerSecond:F2} steps/s, ETA {(p.Eta is { } e ? e.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : "?")}");
    }
}
