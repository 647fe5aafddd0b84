using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// Scalar tensors read into host numbers for logs, in one transfer whatever their device (one synchronisation on a
/// GPU instead of one per value). On libtorch's <c>meta</c> device, which holds shapes and no data, every value is NaN.
/// </summary>
public static class HostScalars
{
    public static double[] Read(params Tensor[] scalars)
    {
        if (scalars.Length == 0) return [];
        if (scalars.Any(s => s.device_type == DeviceType.META)) return Enumerable.Repeat(double.NaN, scalars.Length).ToArray();
        using var scope = NewDisposeScope();
        var values = stack(scalars.Select(s => s.detach().to_type(ScalarType.Float64).reshape(1)).ToArray()).cpu();   // [N]
        return values.data<double>().ToArray();
    }
}
