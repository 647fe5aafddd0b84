namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// A weights file that cannot be read, written or matched to a model. The message names the file, the
/// key and what to do; the CLI maps this type to exit code 2.
/// </summary>
public sealed class WeightsException : Exception
{
    public WeightsException(string message, Exception? inner = null) : base(message, inner) { }
}
