using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Execution;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// One micro-batch of diffusion training: noisy latents x_t, their timesteps and noise eps (the target of
/// eps-prediction), and the conditioning after classifier-free-guidance dropout: class labels (the null
/// label where dropped) or encoder states (zeros where dropped). Owns its tensors.
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    public required Tensor Noisy { get; init; }
    /// <summary>int64 [B]</summary>
    public required Tensor Timesteps { get; init; }
    public required Tensor Noise { get; init; }
    /// <summary>int64 [B], labelled data only.</summary>
    public Tensor? Labels { get; init; }
    /// <summary>[B, T, D], data with encoder states only.</summary>
    public Tensor? Context { get; init; }
    public Tensor? TextEmbeds { get; init; }
    public Tensor? TimeIds { get; init; }

    /// <summary>The U-Net inputs, with labels turned into states by <paramref name="conditioner"/> (in the caller's dispose scope).</summary>
    public UNetInputs Inputs(ClassConditioner? conditioner)
    {
        var context = Labels is { } labels
            ? (conditioner ?? throw new InvalidOperationException("labelled training data needs a class conditioner")).forward(labels)
            : Context!;
        return new UNetInputs(Noisy, Timesteps, context, TextEmbeds, TimeIds);
    }

    /// <summary>This batch on <paramref name="device"/>: itself when it is there, else a moved copy (this one is then disposed).</summary>
    public TrainingBatch MoveTo(Device device)
    {
        if (Noisy.device_type == device.type && Noisy.device_index == Math.Max(device.index, 0)) return this;
        var moved = new TrainingBatch
        {
            Noisy = Noisy.to(device).DetachFromDisposeScope(),
            Timesteps = Timesteps.to(device).DetachFromDisposeScope(),
            Noise = Noise.to(device).DetachFromDisposeScope(),
            Labels = Labels?.to(device).DetachFromDisposeScope(),
            Context = Context?.to(device).DetachFromDisposeScope(),
            TextEmbeds = TextEmbeds?.to(device).DetachFromDisposeScope(),
            TimeIds = TimeIds?.to(device).DetachFromDisposeScope(),
        };
        Dispose();
        return moved;
    }

    public void Dispose()
    {
        Noisy.Dispose();
        Timesteps.Dispose();
        Noise.Dispose();
        Labels?.Dispose();
        Context?.Dispose();
        TextEmbeds?.Dispose();
        TimeIds?.Dispose();
    }
}
