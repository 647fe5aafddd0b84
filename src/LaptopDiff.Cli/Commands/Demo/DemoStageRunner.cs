using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using LaptopDiff.Cli.IO;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// Runs demo stages in order; consecutive <see cref="DemoStage.Concurrent"/> stages run up to <c>lanes</c> at a time
/// (their console lines prefixed with the stage's name). Each stage's output goes to <c>logs/NAME.log</c> (and to the
/// console), every command line to <c>commands.sh</c> so each step can be rerun by hand, and a finished stage leaves
/// <c>.stages/NAME.done</c> holding the settings' fingerprint: a rerun with the same settings skips it.
/// <c>.stages/NAME.seconds</c> keeps its time and start, so a resumed run still reports every stage's and the wall time.
/// </summary>
public sealed class DemoStageRunner(string runDir, string fingerprint, TextWriter console)
{
    private readonly string _stampDir = Path.Combine(runDir, ".stages");
    private readonly string _logDir = Path.Combine(runDir, "logs");
    private readonly List<string> _commands = [];
    private readonly TextWriter _console = TextWriter.Synchronized(console);
    private readonly Dictionary<string, StageTime> _times = [];

    private readonly List<string> _stageNames = [];

    /// <summary>
    /// Seconds each finished stage took, in this run or in the earlier one that finished it, in the stages' order (not
    /// the order concurrent stages happened to finish in, so a resumed run reports them alike).
    /// </summary>
    public IReadOnlyDictionary<string, double> ElapsedSeconds =>
        _stageNames.Where(_times.ContainsKey).ToDictionary(name => name, name => _times[name].Seconds);

    /// <summary>Wall time of the finished stages: the length of the union of their intervals (concurrent stages overlap).</summary>
    public double WallSeconds => StageTime.UnionSeconds(_times.Values);

    public void Run(IReadOnlyList<DemoStage> stages, int lanes = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        Directory.CreateDirectory(_stampDir);
        Directory.CreateDirectory(_logDir);
        _stageNames.AddRange(stages.Select(s => s.Name));
        for (int start = 0; start < stages.Count;)
        {
            int end = start + 1;
            if (stages[start].Concurrent)
                while (end < stages.Count && stages[end].Concurrent) end++;
            var pending = new List<int>();
            for (int i = start; i < end; i++)
            {
                if (stages[i].Arguments != null) _commands.Add("laptop-diff " + string.Join(' ', stages[i].Arguments!.Select(Quote)));
                if (!SkipIfDone(stages[i], Prefix(stages, i))) pending.Add(i);
            }
            if (pending.Count > 1 && lanes > 1)
                RunConcurrently(pending.Select(i => (stages[i], Prefix(stages, i))).ToList(), lanes);
            else
                foreach (int i in pending) RunTimed(stages[i], Prefix(stages, i), _console);
            start = end;
        }
        TextOutputs.Write(Path.Combine(runDir, "commands.sh"),
            "#!/usr/bin/env bash\n# The demo's steps as laptop-diff commands, in order (run from the repository root).\nset -euo pipefail\n" +
            string.Join('\n', _commands) + "\n");
    }

    private static string Prefix(IReadOnlyList<DemoStage> stages, int i) => $"[demo {i + 1}/{stages.Count}] {stages[i].Title}";

    private bool SkipIfDone(DemoStage stage, string prefix)
    {
        if (!Done(stage)) return false;
        if (StageTime.TryParse(File.Exists(Seconds(stage)) ? File.ReadAllText(Seconds(stage)) : "", out var earlier))
            lock (_times) _times[stage.Name] = earlier;
        _console.WriteLine($"{prefix}: done in an earlier run, skipped");
        return true;
    }

    /// <summary>Every stage on its own worker, at most <paramref name="lanes"/> at once; the first failure is rethrown once all have ended.</summary>
    private void RunConcurrently(List<(DemoStage Stage, string Prefix)> stages, int lanes)
    {
        var failures = new List<Exception>();
        // one stage at a time to whichever worker is free, in list order (not ranges of the list)
        var queue = Partitioner.Create(stages, EnumerablePartitionerOptions.NoBuffering);
        Parallel.ForEach(queue, new ParallelOptions { MaxDegreeOfParallelism = lanes }, s =>
        {
            using var console = new LinePrefixWriter(_console, $"[{s.Stage.Name}] ");
            try { RunTimed(s.Stage, s.Prefix, console); }
            catch (Exception e) { lock (failures) failures.Add(e); }
        });
        if (failures.Count > 0) ExceptionDispatchInfo.Capture(failures[0]).Throw();
    }

    private void RunTimed(DemoStage stage, string prefix, TextWriter console)
    {
        _console.WriteLine($"{prefix} ...");
        var started = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        RunOne(stage, console);
        var time = new StageTime(watch.Elapsed.TotalSeconds, started.ToUnixTimeMilliseconds() / 1000.0);
        var missing = stage.Outputs.Where(o => !Exists(o)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"demo stage '{stage.Name}' finished without writing {string.Join(", ", missing)}");
        lock (_times) _times[stage.Name] = time;
        TextOutputs.Write(Seconds(stage), time.ToString());
        TextOutputs.Write(Stamp(stage), fingerprint);
        _console.WriteLine($"{prefix}: {time.Seconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
    }

    private void RunOne(DemoStage stage, TextWriter console)
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
