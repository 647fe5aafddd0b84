namespace LaptopDiff.Runtime.Inputs;

/// <summary>
/// Inputs that do not fit the model (missing names, wrong shapes): the user's to fix. <see cref="Settings"/> names
/// the settings (properties of the request, e.g. <c>Resume</c>) that the message tells the user to change, so a
/// front end can point to its own name for them.
/// </summary>
public sealed class InputException(string message, params string[] settings) : Exception(message)
{
    public IReadOnlyList<string> Settings { get; } = settings;
}
