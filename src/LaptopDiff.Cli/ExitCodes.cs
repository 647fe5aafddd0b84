namespace LaptopDiff.Cli;

/// <summary>Process exit codes, the same for every command (docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>
    /// The command line is wrong: System.CommandLine's parse errors (unknown option, missing or malformed value,
    /// <c>--threads 0</c>), conflicting options, and option values the command or the runtime rejects.
    /// </summary>
    public const int Usage = 1;
    /// <summary>Bad input files: spec, config, weights, data, criterion, checkpoints that do not fit the run.</summary>
    public const int InputError = 2;
    /// <summary>Failure while running (out of memory, NaN, a bug).</summary>
    public const int RuntimeFailure = 3;
    /// <summary>Training stopped by SIGINT/SIGTERM after writing a checkpoint (128 + SIGINT, the shell's convention).</summary>
    public const int Interrupted = 130;
}
