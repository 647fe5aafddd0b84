using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Training;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>A VAE training micro-batch: images [B,C,S,S] in [-1,1] and the standard-normal noise [B,L,s,s] of their posterior samples.</summary>
public sealed class VaeBatch : IDeviceBatch<VaeBatch>
{
    public required Tensor Images { get; init; }
    public required Tensor PosteriorNoise { get; init; }

    public VaeBatch MoveTo(Device device)
    {
        if (Images.device_type == device.type && Images.device_index == Math.Max(device.index, 0)) return this;
        var moved = new VaeBatch
        {
            Images = Images.to(device).DetachFromDisposeScope(),
            PosteriorNoise = PosteriorNoise.to(device).DetachFromDisposeScope(),
        };
        Dispose();
        return moved;
    }

    public void Dispose()
    {
        Images.Dispose();
        PosteriorNoise.Dispose();
    }
}

/// <summary>
/// VAE micro-batches from images held in memory, as a pure function of (seed, step, micro-batch): sample position p walks
/// epochs, each a seeded permutation of the images (<see cref="RandomPurpose.TrainingOrder"/>), and p's posterior noise
/// comes from its own stream, so a resumed run draws exactly what the uninterrupted one would have.
/// </summary>
public sealed class VaeTrainingBatches : ITrainingBatches<VaeBatch>
{
    private readonly Tensor _images;
    private readonly TrainingOptions _options;
    private readonly long[] _latentShape;
    private int _epoch = -1;
    private int[] _order = [];

    /// <param name="images">[N,C,S,S] in [-1,1]; not owned.</param>
    public VaeTrainingBatches(Tensor images, VaeConfig config, TrainingOptions options)
    {
        if (images.dim() != 4 || images.shape[1] != config.InChannels || images.shape[2] % config.DownscaleFactor != 0 || images.shape[3] % config.DownscaleFactor != 0)
            throw new ArgumentException($"images must be [N,{config.InChannels},H,W] with H, W multiples of {config.DownscaleFactor}, got [{string.Join(",", images.shape)}]");
        _images = images;
        _options = options;
        _latentShape = [config.LatentChannels, images.shape[2] / config.DownscaleFactor, images.shape[3] / config.DownscaleFactor];
    }

    public long Position(int step, int micro) => ((long)step * _options.GradientAccumulation + micro) * _options.BatchSize;

    public VaeBatch Batch(int step, int micro)
    {
        int b = _options.BatchSize, n = (int)_images.shape[0];
        int per = (int)(_latentShape[0] * _latentShape[1] * _latentShape[2]);
        long start = Position(step, micro);
        var index = new long[b];
        var noise = new float[b * per];
        for (int i = 0; i < b; i++)
        {
            long p = start + i;
            index[i] = Order((int)(p / n))[(int)(p % n)];
            new SeededRandom(_options.Seed, RandomPurpose.VaePosteriorNoise, p).FillNormal(noise.AsSpan(i * per, per));
        }
        using var idx = tensor(index);
        return new VaeBatch
        {
            Images = _images.index_select(0, idx),
            PosteriorNoise = tensor(noise).reshape([b, .. _latentShape]),
        };
    }

    private int[] Order(int epoch)
    {
        if (epoch != _epoch)
        {
            _order = new SeededRandom(_options.Seed, RandomPurpose.TrainingOrder, epoch).Permutation((int)_images.shape[0]);
            _epoch = epoch;
        }
        return _order;
    }
}
