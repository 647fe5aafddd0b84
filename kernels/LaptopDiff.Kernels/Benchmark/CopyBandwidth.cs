using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LaptopDiff.Kernels;

/// <summary>The machine's memory-copy bandwidth: the ceiling any streaming kernel can reach.</summary>
public static unsafe class CopyBandwidth
{
    /// <summary>Best of <paramref name="repeats"/> multi-threaded copies of <paramref name="bytes"/> bytes;
    /// GB/s counts bytes read plus bytes written (1 GB = 1e9 bytes).</summary>
    public static double MeasureGbps(long bytes, int threads, int repeats = 5)
    {
        byte* source = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        byte* target = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            new Span<byte>(source, (int)Math.Min(bytes, int.MaxValue)).Fill(1);   // fault the pages in
            new Span<byte>(target, (int)Math.Min(bytes, int.MaxValue)).Clear();
            long slice = (bytes / threads + 63) / 64 * 64;
            double bestSeconds = double.MaxValue;
            for (int r = 0; r < repeats; r++)
            {
                var watch = Stopwatch.StartNew();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
                {
                    long start = i * slice, length = Math.Min(slice, bytes - start);
                    if (length > 0) Buffer.MemoryCopy(source + start, target + start, length, length);
                });
                bestSeconds = Math.Min(bestSeconds, watch.Elapsed.TotalSeconds);
            }
            return 2.0 * bytes / bestSeconds / 1e9;
        }
        finally
        {
            NativeMemory.AlignedFree(source);
            NativeMemory.AlignedFree(target);
        }
    }
}
