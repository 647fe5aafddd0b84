using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>A training micro-batch that owns its tensors and can move to the model's device (data is read on the CPU).</summary>
public interface IDeviceBatch<out TSelf> : IDisposable where TSelf : IDeviceBatch<TSelf>
{
    /// <summary>This batch on <paramref name="device"/>: itself when it is there, else a moved copy (this one is then disposed).</summary>
    TSelf MoveTo(Device device);
}
