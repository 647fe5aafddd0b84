using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Execution;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// One micro-batch of diffusion training: noisy latents x_t, their timesteps and noise eps (the target of
/// eps-prediction), and the conditioning after classifier-free-guidance dropout: class labels (the null
/// label where dropped), encoder states (the empty prompt's where the set has them, else zeros, where dropped), or
/// caption token ids for a text encoder trained with the model (the empty prompt's where dropped). Owns its tensors.
/// </summary>
public sealed class TrainingBatch : IDeviceBatch<TrainingBatch>
{
    public required Tensor Noisy { get; init; }
    /// <summary>int64 [B]</summary>
    public required Tensor Timesteps { get; init; }
    public required Tensor Noise { get; init; }
    /// <summary>The clean latents x_0 [B,C,H,W] the batch was noised from (what an auxiliary loss may predict), when the producer has them.</summary>
    public Tensor? Clean { get; init; }
    /// <summary>int64 [B], labelled data only.</summary>
    public Tensor? Labels { get; init; }
    /// <summary>[B, T, D], data with encoder states only.</summary>
    public Tensor? Context { get; init; }
    /// <summary>int64 [B, T], when the run trains the text encoder (then <see cref="Context"/> is null).</summary>
    public Tensor? InputIds { get; init; }
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

    public TrainingBatch MoveTo(Device device)
    {
        if (Noisy.device_type == device.type && Noisy.device_index == Math.Max(device.index, 0)) return this;
        var moved = new TrainingBatch
        {
            Noisy = Noisy.to(device).DetachFromDisposeScope(),
            Timesteps = Timesteps.to(device).DetachFromDisposeScope(),
            Noise = Noise.to(device).DetachFromDisposeScope(),
            Clean = Clean?.to(device).DetachFromDisposeScope(),
            Labels = Labels?.to(device).DetachFromDisposeScope(),
            Context = Context?.to(device).DetachFromDisposeScope(),
            InputIds = InputIds?.to(device).DetachFromDisposeScope(),
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
        Clean?.Dispose();
        Labels?.Dispose();
        Context?.Dispose();
        InputIds?.Dispose();
        TextEmbeds?.Dispose();
        TimeIds?.Dispose();
    }
}
