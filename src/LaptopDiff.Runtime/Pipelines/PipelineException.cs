namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// A pipeline folder LaptopDiff cannot use: no <c>model_index.json</c>, an unsupported pipeline or component class,
/// a missing component. The message names the file, the component and the class; the CLI maps this type to exit code 2.
/// </summary>
public sealed class PipelineException(string message) : Exception(message);
