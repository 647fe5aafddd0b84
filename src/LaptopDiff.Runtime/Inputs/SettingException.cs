using System.Globalization;

namespace LaptopDiff.Runtime.Inputs;

/// <summary>
/// A setting outside its domain: which setting (the property or parameter a caller sets, e.g. <c>BatchSize</c>),
/// the value given and what it must be. Front ends that expose the setting under another name (the CLI's flags)
/// say it in their own words from these fields.
/// </summary>
public sealed class SettingException(string setting, object? value, string requirement)
    : ArgumentException(null, setting)
{
    public string Setting { get; } = setting;
    /// <summary>The value as given, invariant-formatted; text in quotes.</summary>
    public string Value { get; } = value switch
    {
        null => "(none)",
        string s => $"'{s}'",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
    /// <summary>What the value must be, e.g. <c>must be at least 1</c>.</summary>
    public string Requirement { get; } = requirement;

    public override string Message => $"{Setting} {Requirement}, got {Value}";
}
