using System.Reflection;
using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>Raw access to the memory TorchSharp owns: the address of a tensor's first element.</summary>
internal static class TensorMemory
{
    // TorchSharp 0.107 has no public data_ptr. For CPU tensors `bytes` is a zero-copy span at the
    // tensor's first element (storage offset included). Device tensors need the internal native
    // call; it exists in 0.107 but is not public API, so it is looked up once and may be missing.
    private static readonly Func<IntPtr, IntPtr>? NativeDataPointer = FindNativeDataPointer();

    public static unsafe IntPtr DataPointer(torch.Tensor t)
    {
        if (t.numel() == 0)
            throw new ArgumentException("empty tensor has no data");
        if (t.device_type != DeviceType.CPU)
            return NativeDataPointer?.Invoke(t.Handle)
                ?? throw new NotSupportedException(
                    $"cannot read the device pointer of a {t.device_type} tensor with this TorchSharp version");
        if (t.numel() * t.ElementSize <= int.MaxValue)
        {
            fixed (byte* p = t.bytes) return (IntPtr)p;
        }
        // `bytes` is limited to 2 GiB: the first element's view gives the same address.
        using var first = t.view(-1).narrow(0, 0, 1);
        fixed (byte* p = first.bytes) return (IntPtr)p;
    }

    private static Func<IntPtr, IntPtr>? FindNativeDataPointer()
    {
        var method = typeof(torch).Assembly.GetType("TorchSharp.PInvoke.NativeMethods")
            ?.GetMethod("THSTensor_data", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic,
                [typeof(IntPtr)]);
        return method?.CreateDelegate<Func<IntPtr, IntPtr>>();
    }
}
