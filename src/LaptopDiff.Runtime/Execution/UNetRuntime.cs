namespace LaptopDiff.Runtime.Execution;

/// <summary>Which runtime computes a U-Net's forward while sampling.</summary>
public enum UNetRuntime
{
    /// <summary>TorchSharp: the module and its execution plan (masks and stage features available).</summary>
    Torch,
    /// <summary>ONNX Runtime: the module exported to an ONNX graph first (<see cref="Onnx.OnnxUNet"/>); the graph is the model as loaded, so masks do not apply.</summary>
    Onnx,
}
