using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// Gives one ILGPU launch access to a variable number of tensors. A kernel cannot take a list of
/// views, so every tensor of a call is addressed through ONE view (the arena) plus element offsets:
/// <list type="bullet">
/// <item><b>Window</b> (no copies): when the accelerator can address the tensors' memory (ILGPU CPU
/// accelerator and CPU tensors; CUDA accelerator and CUDA tensors), the arena is a view over the
/// address range spanning the tensors, wrapped with <c>CPUMemoryBuffer.Create</c> (or
/// <see cref="DevicePointerBuffer"/> on CUDA). Kernels only touch offsets inside the tensors.</item>
/// <item><b>Staged</b>: CPU tensors with a CUDA accelerator (TorchSharp here is the CPU build) are
/// copied into one reusable device buffer; outputs are copied back by <see cref="ArenaBinding.Finish"/>.</item>
/// </list>
/// </summary>
internal sealed class TensorArena(Accelerator accelerator, bool forceStaging) : IDisposable
{
    private const long StagedAlignmentElements = 64;   // 256-byte aligned slices: coalesced loads
    private MemoryBuffer1D<float, Stride1D.Dense>? _staging;

    public bool IsStaged(torch.Tensor sample) =>
        forceStaging || (accelerator is CudaAccelerator && sample.device_type == DeviceType.CPU);

    /// <summary>Binds inputs (read) then outputs (written) to offsets in one arena view.</summary>
    public ArenaBinding Bind(IReadOnlyList<torch.Tensor> inputs, IReadOnlyList<torch.Tensor>? outputs = null)
    {
        var all = outputs is null ? inputs : [.. inputs, .. outputs];
        CheckDevice(all);
        return IsStaged(all[0]) ? Stage(all, inputs.Count) : Window(all, inputs.Count);
    }

    private ArenaBinding Window(IReadOnlyList<torch.Tensor> tensors, int inputCount)
    {
        var pointers = tensors.Select(TensorMemory.DataPointer).Select(p => (long)p).ToArray();
        long start = pointers.Min();
        long end = tensors.Select((t, i) => pointers[i] + t.numel() * sizeof(float)).Max();
        if (pointers.Any(p => (p - start) % sizeof(float) != 0))
            throw new ArgumentException("tensor data is not 4-byte aligned; cannot address it as float");
        long length = (end - start) / sizeof(float);
        var buffer = Wrap(accelerator, (IntPtr)start, length);
        var offsets = pointers.Select(p => (p - start) / sizeof(float)).ToArray();
        return new ArenaBinding(buffer.AsArrayView<float>(0, length), offsets, buffer, null, inputCount);
    }

    /// <summary>An ILGPU buffer over float memory the accelerator can address but does not own.</summary>
    internal static MemoryBuffer Wrap(Accelerator accelerator, IntPtr pointer, long length) => accelerator is CudaAccelerator cuda
        ? new DevicePointerBuffer(cuda, pointer, length, sizeof(float))
        : CPUMemoryBuffer.Create(accelerator, pointer, length, sizeof(float));

    private unsafe ArenaBinding Stage(IReadOnlyList<torch.Tensor> tensors, int inputCount)
    {
        var offsets = new long[tensors.Count];
        long next = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            offsets[i] = next;
            next += (tensors[i].numel() + StagedAlignmentElements - 1) / StagedAlignmentElements * StagedAlignmentElements;
        }
        if (_staging is null || _staging.Length < next)
        {
            _staging?.Dispose();
            _staging = accelerator.Allocate1D<float>(Math.Max(next, (_staging?.Length ?? 0) * 3 / 2));
        }
        var view = _staging.View.BaseView;
        for (int i = 0; i < inputCount; i++)
        {
            long n = tensors[i].numel();
            ref float source = ref Unsafe.AsRef<float>((void*)TensorMemory.DataPointer(tensors[i]));
            view.SubView(offsets[i], n).CopyFromCPU(ref source, n);
        }
        return new ArenaBinding(view, offsets, null, tensors, inputCount);
    }

    private void CheckDevice(IReadOnlyList<torch.Tensor> tensors)
    {
        var device = tensors[0].device_type;
        if (tensors.Any(t => t.device_type != device))
            throw new ArgumentException("all tensors of one call must be on the same device");
        if (accelerator is CPUAccelerator && device != DeviceType.CPU)
            throw new ArgumentException($"the ILGPU CPU accelerator cannot read {device} tensors");
        if (accelerator is CudaAccelerator && device is not (DeviceType.CPU or DeviceType.CUDA))
            throw new ArgumentException($"the ILGPU CUDA accelerator cannot read {device} tensors");
    }

    public void Dispose() => _staging?.Dispose();
}

/// <summary>The arena of one call: a view, each tensor's element offset in it, and what to undo.</summary>
internal sealed class ArenaBinding(ArrayView<float> view, long[] offsets, MemoryBuffer? window,
    IReadOnlyList<torch.Tensor>? staged, int inputCount) : IDisposable
{
    public ArrayView<float> View { get; } = view;
    public long[] Offsets { get; } = offsets;

    /// <summary>Staged calls copy the outputs back into their tensors (after the kernels finished).</summary>
    public unsafe void Finish()
    {
        if (staged is null) return;
        for (int i = inputCount; i < staged.Count; i++)
        {
            long n = staged[i].numel();
            ref float target = ref Unsafe.AsRef<float>((void*)TensorMemory.DataPointer(staged[i]));
            View.SubView(Offsets[i], n).CopyToCPU(ref target, n);
        }
    }

    public void Dispose() => window?.Dispose();
}
