using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Cli.Options;

/// <summary>Runtime values built from option values: what the runtime rejects there is a value the command cannot use.</summary>
internal static class OptionValues
{
    /// <summary>
    /// Runs <paramref name="make"/>; a <see cref="SettingException"/> passes on (<see cref="CommandRunner"/> names its
    /// flag), any other <see cref="ArgumentException"/> becomes an <see cref="OptionValueException"/> (exit 2).
    /// </summary>
    public static T Checked<T>(Func<T> make)
    {
        try { return make(); }
        catch (ArgumentException e) when (e is not SettingException) { throw new OptionValueException(e.Message); }
    }
}
