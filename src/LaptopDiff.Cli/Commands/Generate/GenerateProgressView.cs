using System.Globalization;
using LaptopDiff.Cli.IO;
using LaptopDiff.Runtime.Pipelines;
using Spectre.Console;

namespace LaptopDiff.Cli.Commands.Generate;

/// <summary>
/// Text-to-image progress on stderr: a Spectre bar over the denoising steps with elapsed time and ETA on a terminal;
/// elsewhere (CI, files, tests) one plain line per stage and per step.
/// </summary>
internal static class GenerateProgressView
{
    public static T Run<T>(TextWriter error, string verb, Func<IProgress<PipelineProgress>, T> body)
    {
        if (!TerminalProgress.IsTerminal(error))
            return body(new Reporter(p => error.WriteLine($"[{verb}] {Line(p)}")));

        return TerminalProgress.Run(error, $"{verb}: loading", (task, _) =>
        {
            var result = body(new Reporter(p =>
            {
                task.MaxValue = p.Steps + 1;                      // the steps, then decoding
                task.Value = p.Stage == PipelineStage.Decoding ? p.Steps : p.StepsDone;
                task.Description = Markup.Escape($"{verb}: {Line(p)}");
            }));
            task.Value = task.MaxValue;
            return result;
        });
    }

    public static string Line(PipelineProgress p) => p.Stage switch
    {
        PipelineStage.EncodingPrompts => "encoding prompts",
        PipelineStage.Decoding => string.Create(CultureInfo.InvariantCulture, $"decoding (elapsed {Format(p.Elapsed)})"),
        _ when p.LastStep is { } s => string.Create(CultureInfo.InvariantCulture,
            $"step {p.StepsDone}/{p.Steps} (t={s.Timestep:0.###}, {s.ElapsedMs:F0} ms); elapsed {Format(p.Elapsed)}, ETA {Format(s.ElapsedMs * (p.Steps - p.StepsDone))}"),
        _ => $"denoising {p.Steps} steps",
    };

    private static string Format(TimeSpan t) => t.TotalHours >= 1
        ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : t.ToString(@"m\:ss\.f", CultureInfo.InvariantCulture);

    private static string Format(double ms) => Format(TimeSpan.FromMilliseconds(ms));

    /// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Reporter(Action<PipelineProgress> report) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => report(value);
    }
}
