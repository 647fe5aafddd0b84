using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// The fused CPU path: each reduction is one pass over the tensors' own memory (no temporaries),
/// vectorised with <see cref="System.Numerics.Vector{T}"/> and split into chunks over
/// <see cref="KernelTuning.CpuThreads"/> threads. Partial sums are combined in a fixed order, so results
/// do not depend on thread scheduling.
/// </summary>
public sealed unsafe class SimdLossKernels : ILossKernels
{
    private readonly KernelTuning _tuning;
    private readonly object _gate = new();

    public SimdLossKernels(KernelTuning? tuning = null)
    {
        _tuning = tuning ?? KernelTuning.Default;
        _tuning.Validate();
    }

    public KernelPath Path => KernelPath.Simd;

    public string Device =>
        $"CPU, {_tuning.CpuThreads} thread(s), {SimdReductions.VectorDescription()}";

    public void AblationSquaredErrors(torch.Tensor teacher, torch.Tensor ablated, Span<double> sums)
    {
        var (a, b, n) = LossInputs.Ablation(teacher, ablated, sums.Length);
        RequireCpu(teacher, "teacher output");
        lock (_gate)
        {
            nint t = TensorMemory.DataPointer(teacher), s = TensorMemory.DataPointer(ablated);
            long chunk = _tuning.CpuChunkElements;
            int chunksPerSample = checked((int)((n + chunk - 1) / chunk));
            int items = checked(b * chunksPerSample);
            // partials[item * A + a]: one item = one chunk of one sample, against all A ablations,
            // so the teacher chunk is loaded once and stays in cache while A ablated chunks stream.
            var partials = new double[checked(items * a)];
            CpuWorkers.For(items, (a + 1L) * b * n, _tuning, item =>
            {
                int sample = item / chunksPerSample;
                long start = (item % chunksPerSample) * chunk;
                long length = Math.Min(chunk, n - start);
                float* tp = (float*)t + sample * n + start;
                for (int k = 0; k < a; k++)
                {
                    float* sp = (float*)s + ((long)k * b + sample) * n + start;
                    partials[item * a + k] = SimdReductions.SquaredError(tp, sp, length);
                }
            });
            for (int k = 0; k < a; k++)
                for (int sample = 0; sample < b; sample++)
                {
                    double sum = 0;
                    for (int j = 0; j < chunksPerSample; j++) sum += partials[(sample * chunksPerSample + j) * a + k];
                    sums[k * b + sample] = sum;
                }
        }
    }

    public void FeatureSquaredSums(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        Span<double> squaredErrors, Span<double> teacherSquaredNorms)
    {
        LossInputs.Pairs(teacher, student);
        LossInputs.Outputs(teacher.Count, squaredErrors.Length, teacherSquaredNorms.Length);
        RequireCpu(teacher[0], "teacher feature 0");
        lock (_gate)
        {
            var work = PairWork.Create(teacher, student, null, _tuning.CpuChunkElements);
            var partials = new double[work.Items.Length * 2];
            CpuWorkers.For(work.Items.Length, work.TotalElements * 2, _tuning, i =>
            {
                var item = work.Items[i];
                var (sse, norm) = SimdReductions.SquaredErrorAndNorm(
                    (float*)item.Teacher, (float*)item.Student, item.Length);
                partials[2 * i] = sse;
                partials[2 * i + 1] = norm;
            });
            squaredErrors.Clear();
            teacherSquaredNorms.Clear();
            for (int i = 0; i < work.Items.Length; i++)
            {
                squaredErrors[work.Items[i].Pair] += partials[2 * i];
                teacherSquaredNorms[work.Items[i].Pair] += partials[2 * i + 1];
            }
        }
    }

    public void SquaredNorms(IReadOnlyList<torch.Tensor> tensors, Span<double> squaredNorms)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("no tensors given");
        for (int k = 0; k < tensors.Count; k++)
        {
            LossInputs.RequireDenseFloat(tensors[k], $"tensor {k}");
            RequireCpu(tensors[k], $"tensor {k}");
        }
        LossInputs.Outputs(tensors.Count, squaredNorms.Length, squaredNorms.Length);
        lock (_gate)
        {
            var work = PairWork.Create(tensors, tensors, null, _tuning.CpuChunkElements);
            var partials = new double[work.Items.Length];
            CpuWorkers.For(work.Items.Length, work.TotalElements, _tuning, i =>
                partials[i] = SimdReductions.SquaredNorm((float*)work.Items[i].Teacher, work.Items[i].Length));
            Combine(work, partials, squaredNorms);
        }
    }

    public void ScaledDifferences(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        ReadOnlySpan<double> scales, IReadOnlyList<torch.Tensor> gradients, Span<double> squaredErrors)
    {
        LossInputs.Pairs(teacher, student);
        LossInputs.Gradients(student, scales, gradients);
        LossInputs.Outputs(teacher.Count, squaredErrors.Length, squaredErrors.Length);
        RequireCpu(teacher[0], "teacher feature 0");
        lock (_gate)
        {
            var work = PairWork.Create(teacher, student, gradients, _tuning.CpuChunkElements);
            var scaleArray = scales.ToArray();
            var partials = new double[work.Items.Length];
            CpuWorkers.For(work.Items.Length, work.TotalElements * 3, _tuning, i =>
            {
                var item = work.Items[i];
                partials[i] = SimdReductions.ScaledDifference((float*)item.Teacher, (float*)item.Student, (float*)item.Gradient,
                    item.Length, scaleArray[item.Pair], streaming: item.PairLength >= _tuning.CpuStreamingStoreElements);
            });
            Combine(work, partials, squaredErrors);
        }
    }

    public void FeatureLossGradients(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        ReadOnlySpan<double> weights, FeatureLossOptions options, IReadOnlyList<torch.Tensor> gradients,
        Span<double> squaredErrors, Span<double> teacherSquaredNorms)
    {
        LossInputs.Pairs(teacher, student);
        LossInputs.Gradients(student, weights, gradients);
        LossInputs.Outputs(teacher.Count, squaredErrors.Length, teacherSquaredNorms.Length);
        RequireCpu(teacher[0], "teacher feature 0");
        lock (_gate)
        {
            // Pair by pair: the teacher's norm pass leaves it in L3 (32 MiB here) for the gradient
            // pass right after, so each pair costs about one DRAM read of T and S and one write.
            for (int k = 0; k < teacher.Count; k++)
            {
                var work = PairWork.Create([teacher[k]], [student[k]], [gradients[k]], _tuning.CpuChunkElements);
                var partials = new double[work.Items.Length];
                CpuWorkers.For(work.Items.Length, work.TotalElements, _tuning, i =>
                    partials[i] = SimdReductions.SquaredNorm((float*)work.Items[i].Teacher, work.Items[i].Length));
                teacherSquaredNorms[k] = partials.Sum();
                double scale = 2.0 * weights[k] / FeatureLossValues.Denominator(options, teacherSquaredNorms[k]);
                bool streaming = work.TotalElements >= _tuning.CpuStreamingStoreElements;
                // last chunk first: the chunks the norm pass read last are the likeliest to be cached
                int last = work.Items.Length - 1;
                CpuWorkers.For(work.Items.Length, work.TotalElements * 3, _tuning, j =>
                {
                    var item = work.Items[last - j];
                    partials[last - j] = SimdReductions.ScaledDifference((float*)item.Teacher, (float*)item.Student,
                        (float*)item.Gradient, item.Length, scale, streaming);
                });
                squaredErrors[k] = partials.Sum();
            }
        }
    }

    /// <summary>Per-pair sums of the items' partials, in item order (deterministic).</summary>
    private static void Combine(PairWork work, double[] partials, Span<double> totals)
    {
        totals.Clear();
        for (int i = 0; i < work.Items.Length; i++) totals[work.Items[i].Pair] += partials[i];
    }

    public void Dispose() { }

    private static void RequireCpu(torch.Tensor t, string what)
    {
        if (t.device_type != DeviceType.CPU)
            throw new ArgumentException($"{what} is on {t.device}; the SIMD path reads CPU memory (use the ILGPU CUDA path)");
    }

    /// <summary>K pairs cut into chunks: the work items of one multi-tensor call.</summary>
    private sealed class PairWork
    {
        public required Item[] Items { get; init; }
        public long TotalElements { get; init; }

        public readonly record struct Item(int Pair, nint Teacher, nint Student, nint Gradient, long Length, long PairLength);

        public static PairWork Create(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
            IReadOnlyList<torch.Tensor>? gradients, long chunk)
        {
            var items = new List<Item>();
            long total = 0;
            for (int k = 0; k < teacher.Count; k++)
            {
                long n = teacher[k].numel();
                total += n;
                nint t = TensorMemory.DataPointer(teacher[k]), s = TensorMemory.DataPointer(student[k]);
                nint g = gradients is null ? 0 : TensorMemory.DataPointer(gradients[k]);
                for (long start = 0; start < n; start += chunk)
                {
                    long bytes = start * sizeof(float);
                    items.Add(new Item(k, t + (nint)bytes, s + (nint)bytes, g == 0 ? 0 : g + (nint)bytes,
                        Math.Min(chunk, n - start), n));
                }
            }
            return new PairWork { Items = items.ToArray(), TotalElements = total };
        }
    }
}
