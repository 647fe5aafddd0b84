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
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<PairChunk>, ArrayView<double>> _squaredNorms;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<PairChunk>, ArrayView<double>, ArrayView<double>> _scaledDifferences;
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
        _squaredNorms = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<PairChunk>, ArrayView<double>>(LossKernelBodies.SquaredNorms);
        _scaledDifferences = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<PairChunk>, ArrayView<double>, ArrayView<double>>(LossKernelBodies.ScaledDifferences);
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

    /// <summary>The first CUDA GPU, or null when there is none (no driver, no device, or it failed to
    /// initialise: use <see cref="CreateCudaOrNull"/> to see why).</summary>
    public static IlgpuLossKernels? TryCreateCuda(KernelTuning? tuning = null)
    {
        try
        {
            return CreateCudaOrNull(tuning);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or CudaException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The first CUDA GPU; null when ILGPU finds no CUDA device; throws when one is found
    /// but cannot be initialised (driver, architecture), so the CUDA check can say why.</summary>
    public static IlgpuLossKernels? CreateCudaOrNull(KernelTuning? tuning = null)
    {
        tuning ??= KernelTuning.Default;
        tuning.Validate();
        var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        try
        {
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                context.Dispose();
                return null;
            }
            return new IlgpuLossKernels(context, devices[0].CreateCudaAccelerator(context), tuning, forceStaging: false);
        }
        catch
        {
            context.Dispose();
            throw;
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
            AblationSums(arena.View, arena.Offsets[0], arena.Offsets[1], a, b, n, sums);
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
            FeatureSums(arena.View, new PairLayout(arena.Offsets, k, Lengths(teacher)), squaredErrors, teacherSquaredNorms);
        }
    }

    public void SquaredNorms(IReadOnlyList<torch.Tensor> tensors, Span<double> squaredNorms)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("no tensors given");
        for (int k = 0; k < tensors.Count; k++) LossInputs.RequireDenseFloat(tensors[k], $"tensor {k}");
        LossInputs.Outputs(tensors.Count, squaredNorms.Length, squaredNorms.Length);
        lock (_gate)
        {
            using var arena = _arena.Bind(tensors);
            // the layout's student offsets are unused by the norm kernel: point them at the teachers
            SquaredNorms(arena.View, new PairLayout([.. arena.Offsets, .. arena.Offsets], tensors.Count, Lengths(tensors)), squaredNorms);
        }
    }

    public void ScaledDifferences(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        ReadOnlySpan<double> scales, IReadOnlyList<torch.Tensor> gradients, Span<double> squaredErrors)
    {
        LossInputs.Pairs(teacher, student);
        LossInputs.Gradients(student, scales, gradients);
        LossInputs.Outputs(teacher.Count, squaredErrors.Length, squaredErrors.Length);
        lock (_gate)
        {
            using var arena = _arena.Bind([.. teacher, .. student], gradients);
            ScaledDifferences(arena.View, new PairLayout(arena.Offsets, teacher.Count, Lengths(teacher)), scales, squaredErrors);
            arena.Finish();
        }
    }

    public void FeatureLossGradients(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        ReadOnlySpan<double> weights, FeatureLossOptions options, IReadOnlyList<torch.Tensor> gradients,
        Span<double> squaredErrors, Span<double> teacherSquaredNorms)
    {
        LossInputs.Pairs(teacher, student);
        LossInputs.Gradients(student, weights, gradients);
        LossInputs.Outputs(teacher.Count, squaredErrors.Length, teacherSquaredNorms.Length);
        int k = teacher.Count;
        lock (_gate)
        {
            // two launches for all pairs (launch count matters more than cache reuse on a GPU);
            // the K norms come back to the host to form the scales in between
            using var arena = _arena.Bind([.. teacher, .. student], gradients);
            var layout = new PairLayout(arena.Offsets, k, Lengths(teacher));
            SquaredNorms(arena.View, layout, teacherSquaredNorms);
            var scales = new double[k];
            for (int i = 0; i < k; i++) scales[i] = 2.0 * weights[i] / FeatureLossValues.Denominator(options, teacherSquaredNorms[i]);
            ScaledDifferences(arena.View, layout, scales, squaredErrors);
            arena.Finish();
        }
    }

    // The launches, over an arena view and element offsets: the tensor methods above bind tensors
    // to an arena first; the CUDA check calls these directly on device buffers (no TorchSharp).

    internal void AblationSums(ArrayView<float> arena, long teacherOffset, long ablatedOffset, int a, int b, long n, Span<double> sums)
    {
        int chunkLength = ChunkLength;
        int chunksPerSample = checked((int)((n + chunkLength - 1) / chunkLength));
        int segments = a * b;
        long chunkCount = checked((long)segments * chunksPerSample);
        var layout = new AblationLayout(teacherOffset, ablatedOffset, b, n, chunkLength, chunksPerSample);
        var partials = _partials.Get(chunkCount);
        var starts = _starts.Upload(Enumerable.Range(0, segments + 1).Select(s => s * chunksPerSample).ToArray());
        var totals = _totals.Get(segments);
        _ablationSums(Groups(chunkCount), arena, layout, partials);
        _sumSegments(segments, partials, starts, 1, totals);
        _accelerator.Synchronize();
        totals.CopyToCPU(sums);
    }

    internal void FeatureSums(ArrayView<float> arena, PairLayout pairs, Span<double> squaredErrors, Span<double> teacherSquaredNorms)
    {
        var (chunks, starts) = Chunks(pairs);
        var partials = _partials.Get(2L * chunks.Length);
        var totals = _totals.Get(2L * pairs.Count);
        _featureSums(Groups(chunks.Length), arena, _chunks.Upload(chunks), partials);
        _sumSegments(2 * pairs.Count, partials, _starts.Upload(starts), 2, totals);
        _accelerator.Synchronize();
        var sums = new double[2 * pairs.Count];
        totals.CopyToCPU(sums);
        for (int i = 0; i < pairs.Count; i++)
        {
            squaredErrors[i] = sums[2 * i];
            teacherSquaredNorms[i] = sums[2 * i + 1];
        }
    }

    internal void SquaredNorms(ArrayView<float> arena, PairLayout pairs, Span<double> squaredNorms)
    {
        var (chunks, starts) = Chunks(pairs);
        var partials = _partials.Get(chunks.Length);
        var totals = _totals.Get(pairs.Count);
        _squaredNorms(Groups(chunks.Length), arena, _chunks.Upload(chunks), partials);
        _sumSegments(pairs.Count, partials, _starts.Upload(starts), 1, totals);
        _accelerator.Synchronize();
        totals.CopyToCPU(squaredNorms);
    }

    internal void ScaledDifferences(ArrayView<float> arena, PairLayout pairs, ReadOnlySpan<double> scales, Span<double> squaredErrors)
    {
        var (chunks, starts) = Chunks(pairs);
        var partials = _partials.Get(chunks.Length);
        var totals = _totals.Get(pairs.Count);
        _scaledDifferences(Groups(chunks.Length), arena, _chunks.Upload(chunks), _scales.Upload(scales), partials);
        _sumSegments(pairs.Count, partials, _starts.Upload(starts), 1, totals);
        _accelerator.Synchronize();
        totals.CopyToCPU(squaredErrors);
    }

    private static long[] Lengths(IReadOnlyList<torch.Tensor> tensors) => tensors.Select(t => t.numel()).ToArray();

    /// <summary>Cuts K pairs into chunks of one group's work; starts[k] is pair k's first chunk.</summary>
    private (PairChunk[] Chunks, int[] Starts) Chunks(PairLayout pairs)
    {
        int chunkLength = ChunkLength;
        var chunks = new List<PairChunk>();
        var starts = new int[pairs.Count + 1];
        for (int k = 0; k < pairs.Count; k++)
        {
            starts[k] = chunks.Count;
            long n = pairs.Lengths[k];
            for (long start = 0; start < n; start += chunkLength)
                chunks.Add(new PairChunk(k, (int)Math.Min(chunkLength, n - start), pairs.Teacher(k) + start,
                    pairs.Student(k) + start, pairs.HasGradients ? pairs.Gradient(k) + start : 0));
        }
        starts[pairs.Count] = chunks.Count;
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
