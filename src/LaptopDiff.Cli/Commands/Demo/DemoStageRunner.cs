using System.Diagnostics;
using System.Globalization;
using LaptopDiff.Cli.IO;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// Runs demo stages in order. Each stage's output goes to <c>logs/NAME.log</c> (and to the console), every
/// command line to <c>commands.sh</c> so each step can be rerun by hand, and a finished stage leaves
/// <c>.stages/NAME.done</c> holding the settings' fingerprint: a rerun with the same settings skips it.
/// <c>.stages/NAME.seconds</c> keeps its time, so a resumed run still reports every stage's.
/// </summary>
public sealed class DemoStageRunner(string runDir, string fingerprint, TextWriter console)
{
    private readonly string _stampDir = Path.Combine(runDir, ".stages");
    private readonly string _logDir = Path.Combine(runDir, "logs");
    private readonly List<string> _commands = [];

    /// <summary>Seconds each finished stage took, in this run or in the earlier one that finished it.</summary>
    public Dictionary<string, double> ElapsedSeconds { get; } = [];

    public void Run(IReadOnlyList<DemoStage> stages)
    {
        Directory.CreateDirectory(_stampDir);
        Directory.CreateDirectory(_logDir);
        for (int i = 0; i < stages.Count; i++)
        {
            var stage = stages[i];
            if (stage.Arguments != null) _commands.Add("laptop-diff " + string.Join(' ', stage.Arguments.Select(Quote)));
            string prefix = $"[demo {i + 1}/{stages.Count}] {stage.Title}";
            if (Done(stage))
            {
                if (double.TryParse(File.Exists(Seconds(stage)) ? File.ReadAllText(Seconds(stage)) : "", CultureInfo.InvariantCulture, out double earlier))
                    ElapsedSeconds[stage.Name] = earlier;
                console.WriteLine($"{prefix}: done in an earlier run, skipped");
                continue;
            }
            console.WriteLine($"{prefix} ...");
            var watch = Stopwatch.StartNew();
            RunOne(stage);
            double seconds = watch.Elapsed.TotalSeconds;
            ElapsedSeconds[stage.Name] = seconds;
            var missing = stage.Outputs.Where(o => !Exists(o)).ToList();
            if (missing.Count > 0)
                throw new InvalidOperationException($"demo stage '{stage.Name}' finished without writing {string.Join(", ", missing)}");
            TextOutputs.Write(Seconds(stage), seconds.ToString("R", CultureInfo.InvariantCulture));
            TextOutputs.Write(Stamp(stage), fingerprint);
            console.WriteLine($"{prefix}: {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
        }
        TextOutputs.Write(Path.Combine(runDir, "commands.sh"),
            "#!/usr/bin/env bash\n# The demo's steps as laptop-diff commands, in order (run from the repository root).\nset -euo pipefail\n" +
            string.Join('\n', _commands) + "\n");
    }

    private void RunOne(DemoStage stage)
    {
        using var log = new StreamWriter(Path.Combine(_logDir, stage.Name + ".log"), append: false) { AutoFlush = true };
        using var tee = new TeeWriter(log, console);
        if (stage.Replaces != null && Directory.Exists(stage.Replaces)) Directory.Delete(stage.Replaces, recursive: true);
        if (stage.Action != null)
        {
            stage.Action(tee);
            return;
        }
        tee.WriteLine("laptop-diff " + string.Join(' ', stage.Arguments!.Select(Quote)));
        TextWriter stdout = stage.StdoutFile == null ? tee : new StringWriter();
        int code = CliApp.Run(stage.Arguments!, stdout, tee);
        if (code != ExitCodes.Ok)
            throw new DemoStageException(stage.Name, code, Path.Combine(_logDir, stage.Name + ".log"));
        if (stage.StdoutFile != null)
        {
            log.Write(stdout.ToString());
            TextOutputs.Write(stage.StdoutFile, stdout.ToString()!);
        }
    }

    private bool Done(DemoStage stage) =>
        File.Exists(Stamp(stage)) && File.ReadAllText(Stamp(stage)) == fingerprint && stage.Outputs.All(Exists);

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    private string Stamp(DemoStage stage) => Path.Combine(_stampDir, stage.Name + ".done");

    private string Seconds(DemoStage stage) => Path.Combine(_stampDir, stage.Name + ".seconds");

    private static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./:=,{}".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
}

/// <summary>A demo step failed; its exit code is passed on and its log named.</summary>
public sealed class DemoStageException(string stage, int exitCode, string logPath)
    : Exception($"demo stage '{stage}' failed with exit code {exitCode}; see {logPath}. Rerun the demo to resume from this stage.")
{
    public int ExitCode { get; } = exitCode;
}
