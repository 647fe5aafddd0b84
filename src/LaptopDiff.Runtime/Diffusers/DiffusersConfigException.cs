namespace LaptopDiff.Runtime.Diffusers;

/// <summary>A diffusers config that cannot become a LaptopDiff spec; the message names the option.</summary>
public sealed class DiffusersConfigException(string path, string option, string message)
    : Exception($"{path}: {option}: {message}")
{
    public string Path { get; } = path;
    public string Option { get; } = option;
}
