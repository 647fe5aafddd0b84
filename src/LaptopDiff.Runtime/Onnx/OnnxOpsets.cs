namespace LaptopDiff.Runtime.Onnx;

/// <summary>
/// The ONNX operators the exporter emits, each with the first opset of the default domain in which it takes the inputs
/// and attributes used here (e.g. <c>Unsqueeze</c> with its axes as an input: 13; <c>Softmax</c> over one axis: 13;
/// <c>LayerNormalization</c>: 17). A graph needs the largest of its operators' versions; every signature used here is
/// unchanged up to <see cref="Newest"/>. GroupNorm is written as InstanceNormalization over channel groups (ONNX's
/// GroupNormalization exists only from 18 and changed meaning in 21) and attention as MatMul and Softmax.
/// </summary>
public static class OnnxOpsets
{
    /// <summary>The default opset of <c>export-onnx</c>: LayerNormalization exists, and ONNX 1.12's checker knows it.</summary>
    public const int Default = 17;

    /// <summary>The newest opset the exporter writes (each operator used is checked unchanged up to it).</summary>
    public const int Newest = 21;

    private static readonly Dictionary<string, int> FirstOpset = new(StringComparer.Ordinal)
    {
        ["Add"] = 7, ["Sub"] = 7, ["Mul"] = 7, ["Div"] = 7, ["MatMul"] = 9,
        ["Sigmoid"] = 6, ["Erf"] = 9, ["Sin"] = 7, ["Cos"] = 7,
        ["Conv"] = 11, ["InstanceNormalization"] = 6, ["LayerNormalization"] = 17, ["Softmax"] = 13,
        ["Reshape"] = 5, ["Transpose"] = 1, ["Shape"] = 1, ["Slice"] = 10, ["Concat"] = 11, ["Expand"] = 8,
        ["Unsqueeze"] = 13, ["Squeeze"] = 13, ["Gather"] = 11, ["GatherElements"] = 11, ["ArgMax"] = 11,
        ["Equal"] = 11, ["Cast"] = 6, ["Resize"] = 13, ["Pad"] = 11, ["Identity"] = 1,
    };

    /// <summary>The first opset in which <paramref name="op"/> has the signature the exporter uses.</summary>
    /// <exception cref="ArgumentException">The exporter does not emit <paramref name="op"/>.</exception>
    public static int FirstFor(string op) =>
        FirstOpset.TryGetValue(op, out var v) ? v : throw new ArgumentException($"the exporter does not emit ONNX operator '{op}'", nameof(op));

    public static bool IsKnown(string op) => FirstOpset.ContainsKey(op);

    /// <summary>
    /// The IR version of the ONNX release that introduced <paramref name="opset"/> (opset 17: ONNX 1.12, IR 8), the
    /// lowest that checkers and runtimes accept with it.
    /// </summary>
    public static long IrVersionFor(int opset) => opset switch
    {
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };
}
