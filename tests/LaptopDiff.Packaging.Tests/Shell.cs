using System.Diagnostics;

namespace LaptopDiff.Packaging.Tests;

/// <summary>Runs a bash command line as a reader of the docs would, with its output and exit code.</summary>
internal sealed class Shell
{
    // A hang guard only: packing the tool (libtorch inside) took 9.5 min on a 2-core box at load average 30.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(20);

    private readonly Dictionary<string, string> _environment;

    public Shell(string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        WorkingDirectory = workingDirectory;
        _environment = new Dictionary<string, string>(environment)
        {
            // no MSBuild nodes or compiler servers left running after a test
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["UseSharedCompilation"] = "false",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        };
    }

    public string WorkingDirectory { get; set; }

    public sealed record Result(string Command, int ExitCode, string Output, TimeSpan Elapsed)
    {
        public override string ToString() => $"$ {Command}\n(exit {ExitCode}, {Elapsed.TotalSeconds:F1} s)\n{Output}";
    }

    /// <summary>Runs the command; its stdout and stderr interleaved as a terminal shows them.</summary>
    public Result Run(string command)
    {
        var start = new ProcessStartInfo("bash", ["-c", command + " 2>&1"])
        {
            WorkingDirectory = WorkingDirectory,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in _environment) start.Environment[key] = value;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{command}' ran over {Timeout.TotalMinutes} min");
        }
        return new Result(command, process.ExitCode, output.Result, clock.Elapsed);
    }

    /// <summary>Runs the command and fails the test, with its output, unless it exits 0.</summary>
    public Result Check(string command)
    {
        var result = Run(command);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
