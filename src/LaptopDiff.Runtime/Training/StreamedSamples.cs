using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// A sharded set read as a run reaches its shards, so sets larger than memory train: each epoch visits the shards in a
/// seeded order and the samples of each shard in a seeded order, so consecutive batches read one shard and at most
/// <see cref="CachedShards"/> are held at once (a batch may straddle two). Sample i is row i of the shards joined in
/// file order. Every shard is checked as <see cref="CalibrationSet"/> checks a set when it is first read; labelled
/// sets (which need a class conditioner) are loaded whole instead.
/// </summary>
public sealed class StreamedSamples : ITrainingSamples, IDisposable
{
    public const int CachedShards = 2;

    private readonly string _path;
    private readonly IReadOnlyList<string> _files;
    private readonly UNetLayout _layout;
    private readonly long[] _starts;                                  // first sample of each shard; last = Count
    private readonly LinkedList<(int Shard, CalibrationSet Set)> _cache = new();
    private (long Seed, long Key, int[] Order) _shardOrder = (0, -1, []);
    private (long Seed, long Key, int[] Order) _sampleOrder = (0, -1, []);

    /// <summary>Whether <paramref name="path"/> names a set this class streams: several shards without class labels.</summary>
    public static bool Applies(string path)
    {
        var files = CalibrationShards.Resolve(path);
        return files.Count > 1 && SafetensorsFile.ReadHeader(files[0]).Find(CalibrationFormat.Labels) == null;
    }

    public StreamedSamples(string path, UNetLayout layout)
    {
        _path = path;
        _layout = layout;
        _files = CalibrationShards.Resolve(path);
        _starts = new long[_files.Count + 1];
        for (int s = 0; s < _files.Count; s++)
        {
            var header = SafetensorsFile.ReadHeader(_files[s]);
            if (header.Find(CalibrationFormat.Labels) != null)
                throw new InputException($"calibration set '{path}' holds class labels; a labelled set is loaded whole with its class conditioner, not streamed");
            var latents = header.Find(CalibrationFormat.Latents)
                ?? throw new InputException($"shard '{_files[s]}' of calibration set '{path}' has no '{CalibrationFormat.Latents}' tensor");
            _starts[s + 1] = _starts[s] + latents.Shape[0];
        }
        Hash = FileDigest.Sha256(_files);
        var first = Shard(0);
        LatentShape = first.Latents.shape[1..];
        InputIdsLength = first.InputIds?.shape[1];
        NegativeEncoderHiddenStates = first.NegativeEncoderHiddenStates?.clone();
    }

    /// <summary>SHA-256 of the shards' bytes in order, as <see cref="CalibrationSet.Hash"/>.</summary>
    public string Hash { get; }
    public IReadOnlyList<string> Files => _files;
    public int Count => checked((int)_starts[^1]);
    public long[] LatentShape { get; }
    public bool HasLabels => false;
    public long? InputIdsLength { get; }
    public Tensor? NegativeEncoderHiddenStates { get; }

    public long SampleAt(long seed, long position)
    {
        long epoch = position / Count, offset = position % Count;
        var shards = Order(ref _shardOrder, seed, RandomPurpose.ShardOrder, epoch, _files.Count);
        foreach (int s in shards)
        {
            long size = _starts[s + 1] - _starts[s];
            if (offset < size) return _starts[s] + Order(ref _sampleOrder, seed, RandomPurpose.ShardSampleOrder, epoch * _files.Count + s, (int)size)[offset];
            offset -= size;
        }
        throw new InvalidOperationException("position past the set");   // unreachable: offset < Count
    }

    public SampleRows Rows(long[] samples)
    {
        using var scope = NewDisposeScope();
        var parts = new List<SampleRows>();
        try
        {
            for (int i = 0; i < samples.Length;)
            {
                int shard = ShardOf(samples[i]);
                int end = i;
                while (end < samples.Length && ShardOf(samples[end]) == shard) end++;
                var local = samples[i..end].Select(g => g - _starts[shard]).ToArray();
                parts.Add(new LoadedSamples(Shard(shard)).Rows(local));
                i = end;
            }
            Tensor? Join(Func<SampleRows, Tensor?> pick) => pick(parts[0]) is null ? null : cat(parts.Select(p => pick(p)!).ToArray()).MoveToOuterDisposeScope();
            return new SampleRows(Join(p => p.Latents)!, Join(p => p.EncoderHiddenStates)!, null, Join(p => p.InputIds), Join(p => p.TextEmbeds), Join(p => p.TimeIds));
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    private int ShardOf(long sample)
    {
        int s = Array.BinarySearch(_starts, sample);
        return s >= 0 ? s : ~s - 1;
    }

    /// <summary>Shard <paramref name="s"/>, read (and checked) unless held; the least recently used one is dropped.</summary>
    private CalibrationSet Shard(int s)
    {
        for (var node = _cache.First; node != null; node = node.Next)
            if (node.Value.Shard == s)
            {
                _cache.Remove(node);
                _cache.AddFirst(node);
                return node.Value.Set;
            }
        var set = CalibrationSet.LoadFiles(_path, [_files[s]], _layout, hash: Hash);
        if (set.Count != _starts[s + 1] - _starts[s])
            throw new InputException($"shard '{_files[s]}' changed while the run read it ({set.Count} samples, {_starts[s + 1] - _starts[s]} before)");
        _cache.AddFirst((s, set));
        while (_cache.Count > CachedShards)
        {
            _cache.Last!.Value.Set.Dispose();
            _cache.RemoveLast();
        }
        return set;
    }

    private static int[] Order(ref (long Seed, long Key, int[] Order) cached, long seed, ulong purpose, long key, int count)
    {
        if (cached.Seed != seed || cached.Key != key || cached.Order.Length != count)
            cached = (seed, key, new SeededRandom(seed, purpose, key).Permutation(count));
        return cached.Order;
    }

    public void Dispose()
    {
        foreach (var (_, set) in _cache) set.Dispose();
        _cache.Clear();
        NegativeEncoderHiddenStates?.Dispose();
    }
}
