namespace LaptopDiff.Runtime.Onnx;

/// <summary>The element type an exported graph stores its weights in and computes with.</summary>
public enum OnnxPrecision
{
    Float32,
    /// <summary>Weights, activations and float inputs/outputs in float16; sinusoidal embeddings are computed in float32 and cast, as diffusers does.</summary>
    Float16,
}

/// <summary>How a model is written as ONNX.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// Weights larger than this go to external data: <c>FILE.onnx.data</c> beside <c>FILE.onnx</c> (a protobuf file cannot
    /// exceed 2 GiB). Below 2 GiB, with room for the graph.
    /// </summary>
    public const long DefaultExternalDataThresholdBytes = 2_000_000_000;

    /// <summary>The ONNX opset (default domain) to write; at least what the graph needs, at most <see cref="OnnxOpsets.Newest"/>.</summary>
    public int Opset { get; init; } = OnnxOpsets.Default;

    public OnnxPrecision Precision { get; init; } = OnnxPrecision.Float32;

    /// <summary>Total weight bytes above which the weights are written as external data.</summary>
    public long ExternalDataThresholdBytes { get; init; } = DefaultExternalDataThresholdBytes;
}
