using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>Brings results made on a model's device to the CPU, where they are written, read or compared.</summary>
public static class HostCopy
{
    /// <summary>
    /// <paramref name="tensor"/> on the CPU: itself when it lies there, else a CPU copy in the current dispose scope with the device
    /// tensor disposed (the caller gives up its handle either way).
    /// </summary>
    public static Tensor Take(Tensor tensor)
    {
        if (tensor.device_type == DeviceType.CPU) return tensor;
        using (tensor) return tensor.cpu();
    }
}
