using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// The U-Net's conditioning for one denoising batch: with guidance the unconditional rows first, then the conditional
/// ones (diffusers' <c>cat([negative, positive])</c>), so both halves run as one U-Net batch of 2N; without guidance
/// the conditional rows alone. <see cref="TextEmbeds"/> [B,P] and <see cref="TimeIds"/> [B,6] are SDXL's. Owns its tensors.
/// </summary>
public sealed class GuidedConditioning : IDisposable
{
    private GuidedConditioning(Tensor states, Tensor? textEmbeds, Tensor? timeIds, bool guided)
    {
        EncoderHiddenStates = states;
        TextEmbeds = textEmbeds;
        TimeIds = timeIds;
        Guided = guided;
    }

    /// <summary>[B,77,D], B = 2N with guidance, N without.</summary>
    public Tensor EncoderHiddenStates { get; }
    public Tensor? TextEmbeds { get; }
    public Tensor? TimeIds { get; }
    public bool Guided { get; }
    /// <summary>The U-Net batch of every denoising step.</summary>
    public long Batch => EncoderHiddenStates.shape[0];

    /// <summary>
    /// Joins the halves; <paramref name="timeIds"/> is SDXL's one row (original size, crop top-left, target size),
    /// repeated for every row as diffusers repeats it (the negative half uses the same sizes).
    /// </summary>
    public static GuidedConditioning Create(PromptEmbeddings conditional, PromptEmbeddings? unconditional, float[]? timeIds)
    {
        using var scope = NewDisposeScope();
        Tensor Join(Tensor c, Tensor? u) => u is null ? c.alias() : cat([u, c], 0);
        var states = Join(conditional.PromptEmbeds, unconditional?.PromptEmbeds);                       // [B,77,D]
        Tensor? textEmbeds = null, ids = null;
        if (conditional.PooledPromptEmbeds is { } pooled)
        {
            textEmbeds = Join(pooled, unconditional?.PooledPromptEmbeds);                                // [B,P]
            if (timeIds is null) throw new ArgumentException("SDXL conditioning needs time ids", nameof(timeIds));
            ids = tensor(timeIds, device: states.device).reshape(1, -1).repeat(states.shape[0], 1);     // [B,6], on the states' device
        }
        return new GuidedConditioning(states.MoveToOuterDisposeScope(), textEmbeds?.MoveToOuterDisposeScope(), ids?.MoveToOuterDisposeScope(),
            unconditional is not null);
    }

    public void Dispose()
    {
        EncoderHiddenStates.Dispose();
        TextEmbeds?.Dispose();
        TimeIds?.Dispose();
    }
}
