namespace LaptopDiff.Runtime.Inputs;

/// <summary>Inputs that do not fit the model (missing names, wrong shapes): the user's to fix.</summary>
public sealed class InputException(string message) : Exception(message);
