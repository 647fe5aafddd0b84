namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// One step of the demo: a <c>laptop-diff</c> command line (or an in-process action) and the files it must
/// leave behind (files or folders). A stage whose outputs exist and whose stamp matches is skipped, so a killed demo resumes.
/// </summary>
public sealed record DemoStage(string Name, string Title, IReadOnlyList<string> Outputs, string[]? Arguments = null, Action<TextWriter>? Action = null)
{
    /// <summary>For <c>--json</c> commands: where the command's standard output (its one JSON object) is kept.</summary>
    public string? StdoutFile { get; init; }
    /// <summary>A folder the command creates and refuses to overwrite: removed before the stage runs (again).</summary>
    public string? Replaces { get; init; }
    /// <summary>May run beside the concurrent stages next to it in the list (each on one thread): nothing it reads is written by them.</summary>
    public bool Concurrent { get; init; }

    public static DemoStage Command(string name, string title, string[] arguments, params string[] outputs) =>
        new(name, title, outputs, Arguments: arguments);

    public static DemoStage InProcess(string name, string title, Action<TextWriter> action, params string[] outputs) =>
        new(name, title, outputs, Action: action);
}
