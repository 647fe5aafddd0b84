namespace LaptopDiff.Runtime.Execution;

/// <summary>A TorchSharp U-Net whose every forward skips the units of <paramref name="mask"/>: pruning without a student model, as a runner.</summary>
public sealed class MaskedUNet(UNet2DCondition unet, UnitMask mask) : IUNetRunner
{
    public UNetOutput Forward(UNetInputs inputs) => unet.Forward(inputs, mask);
}
