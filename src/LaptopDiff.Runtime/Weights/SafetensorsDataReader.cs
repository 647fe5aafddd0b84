using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// Reads tensor data of a validated header straight into tensor memory, one tensor at a time, so a
/// 10 GB checkpoint never passes through a managed array.
/// </summary>
internal sealed class SafetensorsDataReader : IDisposable
{
    // Spans are int-sized; chunks also keep each read call, and the buffer a dtype conversion passes through, modest.
    private const long ChunkBytes = 16L << 20;

    private readonly SafetensorsHeader _header;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;

    public SafetensorsDataReader(SafetensorsHeader header)
    {
        _header = header;
        try
        {
            _handle = File.OpenHandle(header.Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightsException($"cannot read weights file '{header.Path}': {e.Message}", e);
        }
        if (RandomAccess.GetLength(_handle) != header.FileLength)
        {
            _handle.Dispose();
            throw new WeightsException($"weights file '{header.Path}' changed after its header was read: try again.");
        }
    }

    /// <summary>A new CPU tensor with the file's dtype and shape.</summary>
    public Tensor Read(SafetensorsEntry entry)
    {
        var tensor = empty(entry.Shape.ToArray(), entry.DType);
        try { ReadInto(entry, tensor); }
        catch { tensor.Dispose(); throw; }
        return tensor;
    }

    /// <summary>
    /// Copies into <paramref name="target"/>, converting dtype; the shapes must already agree. A conversion (or a
    /// copy to another device) goes through one buffer of at most <see cref="ChunkBytes"/>, never a whole tensor.
    /// </summary>
    public void CopyInto(SafetensorsEntry entry, Tensor target)
    {
        if (target.dtype == entry.DType && target.device_type == DeviceType.CPU && target.is_contiguous())
        {
            ReadInto(entry, target);
            return;
        }
        if (!target.is_contiguous())
        {
            using var source = Read(entry);
            target.copy_(source);
            return;
        }
        using var _ = no_grad();
        using var flat = target.view(-1);
        long numel = flat.numel();
        using var buffer = empty(Math.Min(numel, ChunkBytes / SafetensorsDType.ElementSize(entry.DType)), entry.DType);
        for (long start = 0; start < numel; start += buffer.numel())
        {
            long count = Math.Min(buffer.numel(), numel - start);
            using var part = buffer.narrow(0, 0, count);
            ReadRange(entry, start, part);
            using var destination = flat.narrow(0, start, count);
            destination.copy_(part);
        }
    }

    private void ReadInto(SafetensorsEntry entry, Tensor target)
    {
        long perChunk = ChunkBytes / SafetensorsDType.ElementSize(entry.DType);
        using var _ = no_grad();
        using var flat = target.view(-1);
        long numel = flat.numel();
        for (long start = 0; start < numel; start += perChunk)
        {
            using var chunk = flat.narrow(0, start, Math.Min(perChunk, numel - start));
            ReadRange(entry, start, chunk);
        }
    }

    /// <summary>Elements [start, start + numel(destination)) of the entry into a contiguous CPU tensor of the entry's dtype.</summary>
    private void ReadRange(SafetensorsEntry entry, long start, Tensor destination) =>
        ReadExactly(destination.bytes, _header.DataStart + entry.Begin + start * SafetensorsDType.ElementSize(entry.DType), entry.Name);

    private void ReadExactly(Span<byte> destination, long offset, string name)
    {
        try
        {
            while (!destination.IsEmpty)
            {
                int read = RandomAccess.Read(_handle, destination, offset);
                if (read == 0)
                    throw new WeightsException(
                        $"weights file '{_header.Path}' ended while reading tensor '{name}': the file was truncated while being read.");
                destination = destination[read..];
                offset += read;
            }
        }
        catch (IOException e)
        {
            throw new WeightsException($"cannot read tensor '{name}' from weights file '{_header.Path}': {e.Message}", e);
        }
    }

    public void Dispose() => _handle.Dispose();
}
