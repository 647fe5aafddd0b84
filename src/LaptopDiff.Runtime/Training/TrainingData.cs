using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Randomness;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// Draws training micro-batches from a loaded set as a pure function of (seed, step, micro-batch), so a
/// resumed run sees exactly the samples, timesteps, noise and dropout the uninterrupted run would have:
/// sample position p = (step x accumulation + micro) x batch + b walks epochs, each a seeded permutation
/// of the set; position p's timestep (uniform over the schedule), noise and dropout come from its own
/// counter-based streams (<see cref="SeededRandom"/>), independent of libtorch's generator.
/// </summary>
public sealed class TrainingData
{
    private readonly CalibrationSet _set;
    private readonly TrainingOptions _options;
    private readonly long _nullLabel;
    private int _epoch = -1;
    private int[] _order = [];

    /// <param name="nullLabel">The conditioner's null label, for labelled sets.</param>
    public TrainingData(CalibrationSet set, TrainingOptions options, long nullLabel = -1)
    {
        _set = set;
        _options = options;
        options.Schedule.Validate();
        _nullLabel = nullLabel;
        if (set.Labels is not null && nullLabel < 0) throw new ArgumentException("a labelled set needs the conditioner's null label", nameof(nullLabel));
    }

    public int Count => _set.Count;

    /// <summary>The first sample position of micro-batch <paramref name="micro"/> of optimizer step <paramref name="step"/> (0-based).</summary>
    public long Position(int step, int micro) => ((long)step * _options.GradientAccumulation + micro) * _options.BatchSize;

    /// <summary>Micro-batch <paramref name="micro"/> of step <paramref name="step"/>; the tensors are the caller's.</summary>
    public TrainingBatch Batch(int step, int micro)
    {
        int b = _options.BatchSize, n = _set.Count, steps = _options.Schedule.TrainSteps;
        long start = Position(step, micro);
        var index = new long[b];
        var t = new long[b];
        var drop = new bool[b];
        long perSample = _set.Latents.shape.Skip(1).Aggregate(1L, (p, d) => p * d);
        var noise = new float[b * perSample];
        for (int i = 0; i < b; i++)
        {
            long p = start + i;
            index[i] = Order((int)(p / n))[(int)(p % n)];
            t[i] = Math.Min(steps - 1, (long)(new SeededRandom(_options.Seed, RandomPurpose.TrainingTimesteps, p).Uniform(0) * steps));
            new SeededRandom(_options.Seed, RandomPurpose.TrainingNoise, p).FillNormal(noise.AsSpan((int)(i * perSample), (int)perSample));
            drop[i] = new SeededRandom(_options.Seed, RandomPurpose.ConditioningDropout, p).Uniform(0) < _options.ConditioningDropout;
        }

        using var scope = NewDisposeScope();
        var idx = tensor(index);
        var x0 = _set.Latents.index_select(0, idx);                                        // [B,C,H,W]
        var eps = tensor(noise).reshape(x0.shape);
        var timesteps = tensor(t);                                                          // [B]
        var xt = _options.Schedule.AddNoise(x0, eps, timesteps);
        var keep = tensor(drop.Select(d => !d).ToArray());                                   // [B] bool
        Tensor? labels = null, context = null;
        if (_set.Labels is { } all)
            labels = all.index_select(0, idx).where(keep, _nullLabel);                       // dropped -> null label
        else
            context = _set.EncoderHiddenStates.index_select(0, idx) * keep.to_type(ScalarType.Float32).reshape(b, 1, 1);   // dropped -> zeros
        return new TrainingBatch
        {
            Noisy = xt.MoveToOuterDisposeScope(),
            Timesteps = timesteps.MoveToOuterDisposeScope(),
            Noise = eps.MoveToOuterDisposeScope(),
            Labels = labels?.MoveToOuterDisposeScope(),
            Context = context?.MoveToOuterDisposeScope(),
            TextEmbeds = _set.TextEmbeds?.index_select(0, idx).MoveToOuterDisposeScope(),
            TimeIds = _set.TimeIds?.index_select(0, idx).MoveToOuterDisposeScope(),
        };
    }

    private int[] Order(int epoch)
    {
        if (epoch != _epoch)
        {
            _order = new SeededRandom(_options.Seed, RandomPurpose.TrainingOrder, epoch).Permutation(_set.Count);
            _epoch = epoch;
        }
        return _order;
    }
}
