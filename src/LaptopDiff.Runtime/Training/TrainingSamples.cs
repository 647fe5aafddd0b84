using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Randomness;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>The rows of some samples, in the order asked: what one training batch reads. Owns its tensors.</summary>
public sealed record SampleRows(Tensor Latents, Tensor EncoderHiddenStates, Tensor? Labels, Tensor? InputIds, Tensor? TextEmbeds, Tensor? TimeIds) : IDisposable
{
    public void Dispose()
    {
        Latents.Dispose();
        EncoderHiddenStates.Dispose();
        Labels?.Dispose();
        InputIds?.Dispose();
        TextEmbeds?.Dispose();
        TimeIds?.Dispose();
    }
}

/// <summary>
/// The samples a training run draws from (<see cref="TrainingData"/>): a set held in memory
/// (<see cref="LoadedSamples"/>) or shards read as the run reaches them (<see cref="StreamedSamples"/>). Each decides the
/// order a run visits its samples in, a pure function of (seed, position), so that resumed runs see the same samples.
/// </summary>
public interface ITrainingSamples
{
    int Count { get; }
    /// <summary>[C, H, W] of one sample's latents.</summary>
    long[] LatentShape { get; }
    bool HasLabels { get; }
    /// <summary>Tokens per caption in <c>input_ids</c>; null when the set has none.</summary>
    long? InputIdsLength { get; }
    /// <summary>[1, T, D]: the empty prompt's states (caption dropout), when the set has them.</summary>
    Tensor? NegativeEncoderHiddenStates { get; }

    /// <summary>The sample visited at run position <paramref name="position"/> (epochs follow one another).</summary>
    long SampleAt(long seed, long position);

    SampleRows Rows(long[] samples);
}

/// <summary>A set in memory: every epoch a seeded permutation of all samples.</summary>
public sealed class LoadedSamples(CalibrationSet set) : ITrainingSamples
{
    private int _epoch = -1;
    private long _seed;
    private int[] _order = [];

    public int Count => set.Count;
    public long[] LatentShape => set.Latents.shape[1..];
    public bool HasLabels => set.Labels is not null;
    public long? InputIdsLength => set.InputIds?.shape[1];
    public Tensor? NegativeEncoderHiddenStates => set.NegativeEncoderHiddenStates;

    public long SampleAt(long seed, long position)
    {
        int epoch = (int)(position / Count);
        if (epoch != _epoch || seed != _seed)
        {
            _order = new SeededRandom(seed, RandomPurpose.TrainingOrder, epoch).Permutation(Count);
            (_epoch, _seed) = (epoch, seed);
        }
        return _order[(int)(position % Count)];
    }

    public SampleRows Rows(long[] samples)
    {
        using var idx = tensor(samples);
        return new SampleRows(set.Latents.index_select(0, idx), set.EncoderHiddenStates.index_select(0, idx), set.Labels?.index_select(0, idx),
            set.InputIds?.index_select(0, idx), set.TextEmbeds?.index_select(0, idx), set.TimeIds?.index_select(0, idx));
    }
}
