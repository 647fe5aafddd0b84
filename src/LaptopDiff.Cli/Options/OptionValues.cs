using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Cli.Options;

/// <summary>Runtime values built from option values: what the runtime rejects there is the command line's fault.</summary>
internal static class OptionValues
{
    /// <summary>
    /// Runs <paramref name="make"/>; a <see cref="SettingException"/> passes on (<see cref="CommandRunner"/> names its
    /// flag), any other <see cref="ArgumentException"/> becomes a <see cref="UsageException"/> (exit 1).
    /// </summary>
    public static T Checked<T>(Func<T> make)
    {
        try { return make(); }
        catch (ArgumentException e) when (e is not SettingException) { throw new UsageException(e.Message); }
    }
}
