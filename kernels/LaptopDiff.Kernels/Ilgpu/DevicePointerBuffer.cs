using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace LaptopDiff.Kernels;

/// <summary>
/// An ILGPU buffer over CUDA device memory that someone else owns (a CUDA tensor's storage), the
/// device-side twin of <c>CPUMemoryBuffer.Create</c>. It never frees the memory.
/// Verified by kernels/run-cuda-check.sh over ILGPU-allocated device memory; never run over
/// TorchSharp-owned device memory, because TorchSharp-cuda is not available to this project.
/// </summary>
internal sealed class DevicePointerBuffer : MemoryBuffer
{
    public DevicePointerBuffer(CudaAccelerator accelerator, IntPtr devicePointer, long length, int elementSize)
        : base(accelerator, length, elementSize)
    {
        NativePtr = devicePointer;
    }

    protected override void MemSet(AcceleratorStream stream, byte value, in ArrayView<byte> targetView) =>
        CudaMemoryBuffer.CudaMemSet((CudaStream)stream, value, targetView);

    protected override void CopyFrom(AcceleratorStream stream, in ArrayView<byte> sourceView, in ArrayView<byte> targetView) =>
        CudaMemoryBuffer.CudaCopy((CudaStream)stream, sourceView, targetView);

    protected override void CopyTo(AcceleratorStream stream, in ArrayView<byte> sourceView, in ArrayView<byte> targetView) =>
        CudaMemoryBuffer.CudaCopy((CudaStream)stream, sourceView, targetView);

    protected override void DisposeAcceleratorObject(bool disposing) { }   // the owner frees it
}
