using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Randomness;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// Draws training micro-batches from a set (in memory or streamed from shards: <see cref="ITrainingSamples"/>) as a
/// pure function of (seed, step, micro-batch), so a resumed run sees exactly the samples, timesteps, noise and
/// dropout the uninterrupted run would have: sample position p = (step x accumulation + micro) x batch + b walks
/// the samples in the order the set gives (<see cref="ITrainingSamples.SampleAt"/>); position p's timestep (uniform over the schedule), noise and dropout come from its own
/// counter-based streams (<see cref="SeededRandom"/>), independent of libtorch's generator. With
/// <see cref="CaptionTokens"/> the batch carries caption ids for a text encoder trained alongside, instead of states.
/// </summary>
public sealed class TrainingData : ITrainingBatches<TrainingBatch>
{
    private readonly ITrainingSamples _set;
    private readonly TrainingOptions _options;
    private readonly long _nullLabel;
    private readonly CaptionTokens? _captions;

    /// <param name="nullLabel">The conditioner's null label, for labelled sets.</param>
    /// <param name="captions">For a run that trains the text encoder: how ids are fed (the set must hold <c>input_ids</c>).</param>
    public TrainingData(CalibrationSet set, TrainingOptions options, long nullLabel = -1, CaptionTokens? captions = null)
        : this(new LoadedSamples(set), options, nullLabel, captions) { }

    public TrainingData(ITrainingSamples set, TrainingOptions options, long nullLabel = -1, CaptionTokens? captions = null)
    {
        if (captions != null && set.InputIdsLength is null)
            throw new ArgumentException("training the text encoder needs a set with input_ids", nameof(captions));
        _captions = captions;
        _set = set;
        _options = options;
        options.Schedule.Validate();
        _nullLabel = nullLabel;
        if (set.HasLabels && nullLabel < 0) throw new ArgumentException("a labelled set needs the conditioner's null label", nameof(nullLabel));
    }

    public int Count => _set.Count;

    /// <summary>The first sample position of micro-batch <paramref name="micro"/> of optimizer step <paramref name="step"/> (0-based).</summary>
    public long Position(int step, int micro) => ((long)step * _options.GradientAccumulation + micro) * _options.BatchSize;

    /// <summary>Micro-batch <paramref name="micro"/> of step <paramref name="step"/>; the tensors are the caller's.</summary>
    public TrainingBatch Batch(int step, int micro)
    {
        int b = _options.BatchSize, steps = _options.Schedule.TrainSteps;
        long start = Position(step, micro);
        var index = new long[b];
        var t = new long[b];
        var drop = new bool[b];
        long perSample = _set.LatentShape.Aggregate(1L, (p, d) => p * d);
        var noise = new float[b * perSample];
        for (int i = 0; i < b; i++)
        {
            long p = start + i;
            index[i] = _set.SampleAt(_options.Seed, p);
            t[i] = Math.Min(steps - 1, (long)(new SeededRandom(_options.Seed, RandomPurpose.TrainingTimesteps, p).Uniform(0) * steps));
            new SeededRandom(_options.Seed, RandomPurpose.TrainingNoise, p).FillNormal(noise.AsSpan((int)(i * perSample), (int)perSample));
            drop[i] = new SeededRandom(_options.Seed, RandomPurpose.ConditioningDropout, p).Uniform(0) < _options.ConditioningDropout;
        }

        using var scope = NewDisposeScope();
        using var rows = _set.Rows(index);
        var x0 = rows.Latents;                                                              // [B,C,H,W]
        var eps = tensor(noise).reshape(x0.shape);
        var timesteps = tensor(t);                                                          // [B]
        var xt = _options.Schedule.AddNoise(x0, eps, timesteps);
        var keep = tensor(drop.Select(d => !d).ToArray());                                   // [B] bool
        Tensor? labels = null, context = null, ids = null;
        if (rows.Labels is { } all)
            labels = all.where(keep, _nullLabel);                                           // dropped -> null label
        else if (_captions != null)
            ids = CaptionIds(rows.InputIds!, drop, start);
        else if (_set.NegativeEncoderHiddenStates is { } empty)
            context = rows.EncoderHiddenStates.where(keep.reshape(b, 1, 1), empty);          // dropped -> the empty prompt's
        else
            context = rows.EncoderHiddenStates * keep.to_type(ScalarType.Float32).reshape(b, 1, 1);   // dropped -> zeros
        return new TrainingBatch
        {
            Noisy = xt.MoveToOuterDisposeScope(),
            Timesteps = timesteps.MoveToOuterDisposeScope(),
            Noise = eps.MoveToOuterDisposeScope(),
            Clean = x0.alias().MoveToOuterDisposeScope(),
            Labels = labels?.MoveToOuterDisposeScope(),
            Context = context?.MoveToOuterDisposeScope(),
            InputIds = ids?.MoveToOuterDisposeScope(),
            TextEmbeds = rows.TextEmbeds?.alias().MoveToOuterDisposeScope(),
            TimeIds = rows.TimeIds?.alias().MoveToOuterDisposeScope(),
        };
    }

    /// <summary>[B, T] int64: each sample's ids with fillers, or the empty prompt's where dropped.</summary>
    private Tensor CaptionIds(Tensor picked, bool[] drop, long start)
    {
        int b = drop.Length, t = (int)picked.shape[1];
        if (_captions!.EmptyIds.Length != t)
            throw new InputException($"the set's input_ids have {t} tokens but the tokenizer pads to {_captions.EmptyIds.Length}");
        var stored = picked.data<long>().ToArray();                                          // [B*T]
        var ids = new long[b * t];
        for (int i = 0; i < b; i++)
        {
            var row = drop[i] ? _captions.EmptyIds
                : _captions.WithFillers(stored.AsSpan(i * t, t), new SeededRandom(_options.Seed, RandomPurpose.FillerTokens, start + i));
            row.CopyTo(ids, i * t);
        }
        return tensor(ids, [b, t]);
    }
}
