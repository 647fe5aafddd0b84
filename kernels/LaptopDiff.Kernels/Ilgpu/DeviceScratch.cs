using ILGPU;
using ILGPU.Runtime;

namespace LaptopDiff.Kernels;

/// <summary>A device buffer that grows on demand and is reused across calls (no per-call allocation).</summary>
internal sealed class DeviceScratch<T>(Accelerator accelerator) : IDisposable where T : unmanaged
{
    private MemoryBuffer1D<T, Stride1D.Dense>? _buffer;

    public ArrayView<T> Get(long length)
    {
        if (_buffer is null || _buffer.Length < length)
        {
            _buffer?.Dispose();
            _buffer = accelerator.Allocate1D<T>(Math.Max(length, 64));
        }
        return _buffer.View.BaseView.SubView(0, length);
    }

    public ArrayView<T> Upload(ReadOnlySpan<T> values)
    {
        var view = Get(values.Length);
        view.CopyFromCPU(values);
        return view;
    }

    public void Dispose() => _buffer?.Dispose();
}
