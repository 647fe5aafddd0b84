namespace LaptopDiff.Cli;

/// <summary>Process exit codes, the same for every command (docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>
    /// The command line is malformed: System.CommandLine's parse errors (unknown command or option, a missing
    /// required option, a value that does not parse as its type) and options that do not go together.
    /// </summary>
    public const int Usage = 1;
    /// <summary>
    /// Bad input: an option value the command cannot use (<c>--threads 0</c>, <c>--steps 0</c>, a height not a multiple
    /// of 8) or a file that does not fit the run (spec, config, weights, data, criterion, checkpoint).
    /// </summary>
    public const int InputError = 2;
    /// <summary>Failure while running (out of memory, NaN, a bug).</summary>
    public const int RuntimeFailure = 3;
    /// <summary>Training stopped by SIGINT/SIGTERM after writing a checkpoint (128 + SIGINT, the shell's convention).</summary>
    public const int Interrupted = 130;
}
