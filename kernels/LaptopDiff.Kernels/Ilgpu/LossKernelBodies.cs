using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace LaptopDiff.Kernels;

/// <summary>
/// The ILGPU kernels: static, value-type parameters, no launch logic. Reductions give each group one
/// chunk at a time (grid-stride over chunks), threads stride through the chunk so neighbours read
/// neighbouring floats (coalesced on a GPU), accumulate in double, and the group reduces to one
/// partial per chunk. Partials are summed per segment by <see cref="SumSegments"/> in a fixed order,
/// so results are deterministic. Launchers live in <see cref="IlgpuLossKernels"/>.
/// </summary>
internal static class LossKernelBodies
{
    /// <summary>partials[2c] = sum (s - t)^2, partials[2c + 1] = sum t^2 over chunk c.</summary>
    public static void FeatureSums(ArrayView<float> arena, ArrayView<PairChunk> chunks, ArrayView<double> partials)
    {
        for (int c = Grid.IdxX; c < chunks.IntLength; c += Grid.DimX)
        {
            var chunk = chunks[c];
            double sse = 0, norm = 0;
            for (int i = Group.IdxX; i < chunk.Length; i += Group.DimX)
            {
                double t = arena[chunk.Teacher + i];
                double d = arena[chunk.Student + i] - t;
                sse += d * d;
                norm += t * t;
            }
            sse = GroupExtensions.Reduce<double, AddDouble>(sse);
            norm = GroupExtensions.Reduce<double, AddDouble>(norm);
            if (Group.IsFirstThread)
            {
                partials[2 * c] = sse;
                partials[2 * c + 1] = norm;
            }
            Group.Barrier();   // the next chunk's reduction reuses shared memory
        }
    }

    /// <summary>partials[c] = sum t^2 over chunk c (the chunk's Teacher slice).</summary>
    public static void SquaredNorms(ArrayView<float> arena, ArrayView<PairChunk> chunks, ArrayView<double> partials)
    {
        for (int c = Grid.IdxX; c < chunks.IntLength; c += Grid.DimX)
        {
            var chunk = chunks[c];
            double norm = 0;
            for (int i = Group.IdxX; i < chunk.Length; i += Group.DimX)
            {
                double t = arena[chunk.Teacher + i];
                norm += t * t;
            }
            norm = GroupExtensions.Reduce<double, AddDouble>(norm);
            if (Group.IsFirstThread) partials[c] = norm;
            Group.Barrier();
        }
    }

    /// <summary>g = (float)(scales[pair] * (s - t)) over every chunk, and partials[c] = sum (s - t)^2.</summary>
    public static void ScaledDifferences(ArrayView<float> arena, ArrayView<PairChunk> chunks, ArrayView<double> scales,
        ArrayView<double> partials)
    {
        for (int c = Grid.IdxX; c < chunks.IntLength; c += Grid.DimX)
        {
            var chunk = chunks[c];
            double scale = scales[chunk.Pair];
            double sse = 0;
            for (int i = Group.IdxX; i < chunk.Length; i += Group.DimX)
            {
                double d = (double)arena[chunk.Student + i] - arena[chunk.Teacher + i];
                sse += d * d;
                arena[chunk.Gradient + i] = (float)(scale * d);
            }
            sse = GroupExtensions.Reduce<double, AddDouble>(sse);
            if (Group.IsFirstThread) partials[c] = sse;
            Group.Barrier();
        }
    }

    /// <summary>partials[c] = sum (S[a, b, j..] - T[b, j..])^2 for chunk c = (a * B + b) * chunksPerSample + j.</summary>
    public static void AblationSums(ArrayView<float> arena, AblationLayout layout, ArrayView<double> partials)
    {
        for (int c = Grid.IdxX; c < partials.IntLength; c += Grid.DimX)
        {
            int segment = c / layout.ChunksPerSample;      // a * B + b
            int sample = segment % layout.Samples;
            long start = (long)(c % layout.ChunksPerSample) * layout.ChunkLength;
            long length = XMath.Min(layout.ChunkLength, layout.SampleLength - start);
            long t0 = layout.Teacher + sample * layout.SampleLength + start;
            long s0 = layout.Ablated + segment * layout.SampleLength + start;
            double sse = 0;
            for (int i = Group.IdxX; i < length; i += Group.DimX)
            {
                double d = (double)arena[s0 + i] - arena[t0 + i];
                sse += d * d;
            }
            sse = GroupExtensions.Reduce<double, AddDouble>(sse);
            if (Group.IsFirstThread) partials[c] = sse;
            Group.Barrier();
        }
    }

    /// <summary>totals[s * width + w] = sum over c in [starts[s], starts[s + 1]) of partials[c * width + w];
    /// one thread per (segment, component), summing in chunk order.</summary>
    public static void SumSegments(Index1D index, ArrayView<double> partials, ArrayView<int> starts, int width, ArrayView<double> totals)
    {
        if (index >= totals.IntLength) return;
        int segment = index / width, component = index % width;
        double sum = 0;
        for (int c = starts[segment]; c < starts[segment + 1]; c++) sum += partials[c * width + component];
        totals[index] = sum;
    }
}
