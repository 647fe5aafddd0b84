using LaptopDiff.Runtime.Inputs;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// The prompt embeddings diffusers' pipelines take from a text encoder, with their <c>clip_skip</c>
/// (layers skipped from the end; null = the default). The two pipelines count differently:
/// <list type="bullet">
/// <item><c>StableDiffusionPipeline.encode_prompt</c>: none = <c>last_hidden_state</c> (after the final
/// LayerNorm); k = <c>hidden_states[-(k + 1)]</c> passed through the final LayerNorm, so k = 0 equals none.
/// Its negative prompt ignores clip_skip and always uses <c>last_hidden_state</c>.</item>
/// <item><c>StableDiffusionXLPipeline.encode_prompt</c>, for each of its two encoders: none =
/// <c>hidden_states[-2]</c> (the penultimate layer's output, no final LayerNorm); k =
/// <c>hidden_states[-(k + 2)]</c>, no final LayerNorm. Its negative prompt always uses <c>hidden_states[-2]</c>.
/// The pooled <c>text_embeds</c> come from <c>text_encoder_2</c>'s projection whatever clip_skip is.</item>
/// </list>
/// The results are new tensors the caller owns.
/// </summary>
public static class ClipSkip
{
    /// <summary>SD-1.5's prompt embeddings [B,N,C].</summary>
    public static Tensor StableDiffusion(ClipTextModel encoder, ClipTextOutput output, int? clipSkip)
    {
        if (clipSkip is null) return output.LastHiddenState.alias();
        return encoder.FinalLayerNorm(HiddenStateFromEnd(output, clipSkip.Value, offset: 1));
    }

    /// <summary>SDXL's prompt embeddings [B,N,C] from one encoder (the pipeline concatenates both along C).</summary>
    public static Tensor StableDiffusionXl(ClipTextOutput output, int? clipSkip) =>
        HiddenStateFromEnd(output, clipSkip ?? 0, offset: 2).alias();

    // hidden_states[-(clipSkip + offset)], refusing what Python's index would refuse or silently wrap around.
    private static Tensor HiddenStateFromEnd(ClipTextOutput output, int clipSkip, int offset)
    {
        int largest = output.HiddenStates.Count - offset;
        if (clipSkip < 0 || clipSkip > largest)
            throw new InputException($"clip skip {clipSkip} is out of range for a text encoder of {output.HiddenStates.Count - 1} layers: it must lie in 0..{largest}.");
        return output.HiddenStates[^(clipSkip + offset)];
    }
}
