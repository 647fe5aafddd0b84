using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// What the U-Net is conditioned on for a batch of prompts, as diffusers' <c>encode_prompt</c> returns it:
/// <paramref name="PromptEmbeds"/> [N,77,D] (<c>encoder_hidden_states</c>) and, for SDXL,
/// <paramref name="PooledPromptEmbeds"/> [N,P] (<c>text_embeds</c>). Owns its tensors.
/// </summary>
public sealed record PromptEmbeddings(Tensor PromptEmbeds, Tensor? PooledPromptEmbeds, IReadOnlyList<PromptTruncation> Truncations) : IDisposable
{
    public long Count => PromptEmbeds.shape[0];

    public void Dispose()
    {
        PromptEmbeds.Dispose();
        PooledPromptEmbeds?.Dispose();
    }
}
