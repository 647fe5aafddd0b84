namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// What sampling needs of a U-Net, whichever runtime runs it: one forward from the inputs to the predicted noise
/// (float32, the caller's to dispose). <see cref="UNet2DCondition"/> runs it in TorchSharp,
/// <see cref="Onnx.OnnxUNet"/> an exported graph in ONNX Runtime.
/// </summary>
public interface IUNetRunner
{
    /// <summary>The prediction <see cref="UNetOutput.Sample"/> [B,Cout,H,W] of <paramref name="inputs"/> (no stage features).</summary>
    UNetOutput Forward(UNetInputs inputs);
}
