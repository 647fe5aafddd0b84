using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// The ILGPU path: launchers for <see cref="LossKernelBodies"/>. Kernels are compiled once, in the
/// constructor, and the delegates kept. On the ILGPU CPU accelerator (an emulator: one OS thread per
/// GPU thread, microseconds per element) this verifies the kernels on any machine; on CUDA it is the
/// GPU implementation. Each multi-tensor operation is one launch for all K pairs plus one small
/// launch that sums the per-chunk partials.
/// </summary>
public sealed class IlgpuLossKernels : ILossKernels
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly KernelTuning _tuning;
    private readonly TensorArena _arena;
    private readonly int _groupSize;
    private readonly object _gate = new();
    private readonly DeviceScratch<PairChunk> _chunks;
    private readonly DeviceScratch<double> _partials, _totals, _scales;
    private readonly DeviceScratch<int> _starts;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<PairChunk>, ArrayView<double>> _featureSums;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<PairChunk>, ArrayView<double>> _scaledDifferences;
    private readonly Action<KernelConfig, ArrayView<float>, AblationLayout, ArrayView<double>> _ablationSums;
    private readonly Action<Index1D, ArrayView<double>, ArrayView<int>, int, ArrayView<double>> _sumSegments;

    private IlgpuLossKernels(Context context, Accelerator accelerator, KernelTuning tuning, bool forceStaging)
    {
        _context = context;
        _accelerator = accelerator;
        _tuning = tuning;
        _arena = new TensorArena(accelerator, forceStaging);
        int warp = Math.Max(1, accelerator.WarpSize);
        _groupSize = Math.Max(warp, Math.Min(tuning.GroupSize, accelerator.MaxNumThreadsPerGroup) / warp * warp);
        _chunks = new(accelerator);
        _partials = new(accelerator);
        _totals = new(accelerator);
        _scales = new(accelerator);
        _starts = new(accelerator);
        _featureSums = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<PairChunk>, ArrayView<double>>(LossKernelBodies.FeatureSums);
        _scaledDifferences = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<PairChunk>, ArrayView<double>>(LossKernelBodies.ScaledDifferences);
        _ablationSums = accelerator.LoadStreamKernel<ArrayView<float>, AblationLayout, ArrayView<double>>(LossKernelBodies.AblationSums);
        _sumSegments = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<int>, int, ArrayView<double>>(LossKernelBodies.SumSegments);
    }

    /// <summary>ILGPU's CPU accelerator (emulator, for verification). <paramref name="forceStaging"/>
    /// copies through a device buffer as the CUDA path does for CPU tensors, to test that code here.</summary>
    public static IlgpuLossKernels CreateCpuEmulator(KernelTuning? tuning = null, bool forceStaging = false)
    {
        tuning ??= KernelTuning.Default;
        tuning.Validate();
        var context = Context.Create(b => b.CPU().EnableAlgorithms());
        return new IlgpuLossKernels(context, context.CreateCPUAccelerator(0), tuning, forceStaging);
    }

    /// <summary>The first CUDA GPU, or null when there is none (no driver, no device).</summary>
    public static IlgpuLossKernels? TryCreateCuda(KernelTuning? tuning = null)
    {
        tuning ??= KernelTuning.Default;
        tuning.Validate();
        Context? context = null;
        try
        {
            context = Context.Create(b => b.Cuda().EnableAlgorithms());
            var devices = context.GetCudaDevices();
            if (devices.Count == 0) { context.Dispose(); return null; }
            return new IlgpuLossKernels(context, devices[0].CreateCudaAccelerator(context), tuning, forceStaging: false);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or CudaException or NotSupportedException)
        {
            context?.Dispose();
            return null;
        }
    }

    public KernelPath Path => _accelerator is CudaAccelerator ? KernelPath.IlgpuCuda : KernelPath.IlgpuCpu;

    public string Device => $"{_accelerator.Name} ({_accelerator.AcceleratorType}), group {_groupSize}, " +
                            $"{_tuning.ElementsPerThread} elements/thread";

    /// <summary>The accelerator, for diagnostics and the CUDA check.</summary>
    internal Accelerator Accelerator => _accelerator;

    private int ChunkLength => _groupSize * _tuning.ElementsPerThread;

    private KernelConfig Groups(long chunks) =>
        new((int)Math.Min(Math.Max(chunks, 1), _tuning.MaxGroups), _groupSize);

    public void AblationSquaredErrors(torch.Tensor teacher, torch.Tensor ablated, Span<double> sums)
    {
        var (a, b, n) = LossInputs.Ablation(teacher, ablated, sums.Length);
        lock (_gate)
        {
            using var arena = _arena.Bind([teacher, ablated]);
            int chunkLength = ChunkLength;
            int chunksPerSample = checked((int)((n + chunkLength - 1) / chunkLength));
            int segments = a * b;
            long chunkCount = checked((long)segments * chunksPerSample);
            var layout = new AblationLayout(arena.Offsets[0], arena.Offsets[1], b, n, chunkLength, chunksPerSample);
            var partials = _partials.Get(chunkCount);
            var starts = _starts.Upload(Enumerable.Range(0, segments + 1).Select(s => s * chunksPerSample).ToArray());
            var totals = _totals.Get(segments);
            _ablationSums(Groups(chunkCount), arena.View, layout, partials);
            _sumSegments(segments, partials, starts, 1, totals);
            _accelerator.Synchronize();
            totals.CopyToCPU(sums);
        }
    }

    public void FeatureSquaredSums(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        Span<double> squaredErrors, Span<double> teacherSquaredNorms)
    {
        LossInputs.Pairs(teacher, student);
        LossInputs.Outputs(teacher.Count, squaredErrors.Length, teacherSquaredNorms.Length);
        int k = teacher.Count;
        lock (_gate)
        {
            using var arena = _arena.Bind([.. teacher, .. student]);
            var (chunks, starts) = Chunks(teacher, arena.Offsets, k, gradientOffsets: null);
            var chunkView = _chunks.Upload(chunks);
            var partials = _partials.Get(2L * chunks.Length);
            var totals = _totals.Get(2L * k);
            _featureSums(Groups(chunks.Length), arena.View, chunkView, partials);
            _sumSegments(2 * k, partials, _starts.Upload(starts), 2, totals);
            _accelerator.Synchronize();
            var sums = new double[2 * k];
            totals.CopyToCPU(sums);
            for (int i = 0; i < k; i++)
            {
                squaredErrors[i] = sums[2 * i];
                teacherSquaredNorms[i] = sums[2 * i + 1];
            }
        }
    }

    public void ScaledDifferences(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        ReadOnlySpan<double> scales, IReadOnlyList<torch.Tensor> gradients)
    {
        LossInputs.Pairs(teacher, student);
        LossInputs.Gradients(student, scales, gradients);
        int k = teacher.Count;
        lock (_gate)
        {
            using var arena = _arena.Bind([.. teacher, .. student], gradients);
            var (chunks, _) = Chunks(teacher, arena.Offsets, k, gradientOffsets: arena.Offsets.AsSpan(2 * k, k).ToArray());
            _scaledDifferences(Groups(chunks.Length), arena.View, _chunks.Upload(chunks), _scales.Upload(scales));
            _accelerator.Synchronize();
            arena.Finish();
        }
    }

    /// <summary>Cuts K pairs into chunks of one group's work; starts[k] is pair k's first chunk.</summary>
    private (PairChunk[] Chunks, int[] Starts) Chunks(IReadOnlyList<torch.Tensor> teacher, long[] offsets, int k, long[]? gradientOffsets)
    {
        int chunkLength = ChunkLength;
        var chunks = new List<PairChunk>();
        var starts = new int[k + 1];
        for (int pair = 0; pair < k; pair++)
        {
            starts[pair] = chunks.Count;
            long n = teacher[pair].numel();
            for (long start = 0; start < n; start += chunkLength)
                chunks.Add(new PairChunk(pair, (int)Math.Min(chunkLength, n - start), offsets[pair] + start,
                    offsets[k + pair] + start, gradientOffsets is null ? 0 : gradientOffsets[pair] + start));
        }
        starts[k] = chunks.Count;
        return (chunks.ToArray(), starts);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _arena.Dispose();
            _chunks.Dispose(); _partials.Dispose(); _totals.Dispose(); _scales.Dispose(); _starts.Dispose();
            _accelerator.Dispose();
            _context.Dispose();
        }
    }
}
