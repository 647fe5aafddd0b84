using System.Diagnostics;
using LaptopDiff.Runtime.Tests.Pruning;

namespace LaptopDiff.Runtime.Tests.Cli.Cluster;

/// <summary>
/// What the cluster simulations share: a bin folder with a <c>laptop-diff</c> that runs this build's CLI as its own
/// process and the <see cref="StubSbatch"/>, a 3-sample tiny-sd15 calibration set, and the criterion of one unsharded
/// sweep run as one process with the settings the simulations give the scripts (batch 2: two batches; seed 0; 1 thread).
/// </summary>
public sealed class ClusterSimulation : IDisposable
{
    public const int Shards = 3;
    public const string Batch = "2";
    public const string Seed = "0";
    public const string Threads = "1";
    public static readonly string Spec = SweepTestKit.SpecPath(SweepTestKit.Sd15);
    public static readonly string Weights = SweepTestKit.WeightsPath(SweepTestKit.Sd15);
    /// <summary>Teacher forwards of one shard: 3 samples in batches of 2.</summary>
    public const int BatchesPerShard = 2;

    private static readonly string StubSbatch = Path.Combine(TestPaths.RepoRoot, "tests", "LaptopDiff.Runtime.Tests", "Cli", "Cluster", "sbatch");
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);   // a hang guard: a shard takes seconds

    public string Root { get; } = Directory.CreateTempSubdirectory("laptopdiff-cluster-").FullName;
    public string Bin => Path.Combine(Root, "bin");
    public string Calibration { get; }
    public string SingleProcessCriterion => Path.Combine(Root, "single", "criterion.json");

    public ClusterSimulation()
    {
        Directory.CreateDirectory(Bin);
        Install("laptop-diff", $"#!/bin/sh\nexec dotnet \"{Path.Combine(AppContext.BaseDirectory, "laptop-diff.dll")}\" \"$@\"\n");
        Install("sbatch", File.ReadAllText(StubSbatch));
        Calibration = SweepTestKit.WriteCalibration(Root, SweepTestKit.Sd15, samples: 3);
        Directory.CreateDirectory(Path.GetDirectoryName(SingleProcessCriterion)!);
        Start("laptop-diff", ["sweep", "--spec", Spec, "--weights", Weights, "--calibration", Calibration,
            "--batch", Batch, "--seed", Seed, "--threads", Threads, "--output", SingleProcessCriterion]).Check();
    }

    /// <summary>
    /// Starts <paramref name="file"/> with the test's environment less any scheduler's variables (the tests may
    /// themselves run in a Slurm job), <see cref="Bin"/> first on PATH, then <paramref name="environment"/>.
    /// </summary>
    public LocalProcess Start(string file, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var installed = Path.Combine(Bin, file);   // Process.Start looks a name up on the test's PATH, not the child's
        var start = new ProcessStartInfo(File.Exists(installed) ? installed : file, args)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("SLURM_") || k.StartsWith("SBATCH_") || k == "JOB_COMPLETION_INDEX").ToList())
            start.Environment.Remove(key);
        start.Environment["PATH"] = Bin + Path.PathSeparator + start.Environment["PATH"];
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return new LocalProcess($"{file} {string.Join(' ', args)}", Process.Start(start)!, Timeout);
    }

    private void Install(string name, string script)
    {
        var path = Path.Combine(Bin, name);
        File.WriteAllText(path, script);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() { try { Directory.Delete(Root, recursive: true); } catch (IOException) { } }
}

/// <summary>A started process whose stdout and stderr are read while it runs (so a chatty one never blocks).</summary>
public sealed class LocalProcess(string command, Process process, TimeSpan timeout)
{
    private readonly Task<string> _out = process.StandardOutput.ReadToEndAsync();
    private readonly Task<string> _error = process.StandardError.ReadToEndAsync();

    public sealed record Result(string Command, int ExitCode, string Out, string Error)
    {
        /// <summary>For failure messages: the command, its exit code and the end of its output.</summary>
        public override string ToString() => $"$ {Command}\n(exit {ExitCode})\n{Tail(Out)}\n{Tail(Error)}";
        private static string Tail(string text) => text.Length > 4000 ? "..." + text[^4000..] : text;
    }

    public Result Wait()
    {
        using (process)
        {
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{command}' ran over {timeout.TotalMinutes} min");
            }
            return new Result(command, process.ExitCode, _out.Result, _error.Result);
        }
    }

    /// <summary>Waits and fails the test, with the output, unless the process exited 0.</summary>
    public Result Check()
    {
        var result = Wait();
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
