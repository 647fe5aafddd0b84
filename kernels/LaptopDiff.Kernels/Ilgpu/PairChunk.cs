namespace LaptopDiff.Kernels;

/// <summary>
/// One unit of multi-tensor work: a slice of feature pair <see cref="Pair"/>, given as element
/// offsets into the launch's arena view (see <see cref="TensorArena"/>).
/// </summary>
internal readonly struct PairChunk(int pair, int length, long teacher, long student, long gradient)
{
    public readonly int Pair = pair;
    public readonly int Length = length;
    public readonly long Teacher = teacher;
    public readonly long Student = student;
    public readonly long Gradient = gradient;
}

/// <summary>Geometry of one ablation launch: T [B, N] and S [A, B, N] at offsets in the arena.</summary>
internal readonly struct AblationLayout(long teacher, long ablated, int samples, long sampleLength, int chunkLength, int chunksPerSample)
{
    public readonly long Teacher = teacher;
    public readonly long Ablated = ablated;
    public readonly int Samples = samples;
    public readonly long SampleLength = sampleLength;
    public readonly int ChunkLength = chunkLength;
    public readonly int ChunksPerSample = chunksPerSample;
}

/// <summary>
/// Where K pairs live in an arena: offsets laid out as [teacher 0..K-1, student 0..K-1, gradient
/// 0..K-1 (optional)], the order <see cref="TensorArena.Bind"/> produces, and each pair's length.
/// </summary>
internal readonly struct PairLayout(long[] offsets, int count, long[] lengths)
{
    public int Count { get; } = count;
    public long[] Lengths { get; } = lengths;
    public bool HasGradients => offsets.Length >= 3 * Count;
    public long Teacher(int k) => offsets[k];
    public long Student(int k) => offsets[Count + k];
    public long Gradient(int k) => offsets[2 * Count + k];
}
