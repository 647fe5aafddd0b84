namespace LaptopDiff.Cli;

/// <summary>Process exit codes, documented in the README's CLI reference.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Bad command line (unknown option, missing argument): System.CommandLine's parse errors.</summary>
    public const int Usage = 1;
    /// <summary>Bad input files: spec, config, weights, inputs.</summary>
    public const int InputError = 2;
    /// <summary>Failure while running (out of memory, NaN, a bug).</summary>
    public const int RuntimeFailure = 3;
    /// <summary>Training stopped by SIGINT/SIGTERM after writing a checkpoint (128 + SIGINT, the shell's convention).</summary>
    public const int Interrupted = 130;
}
