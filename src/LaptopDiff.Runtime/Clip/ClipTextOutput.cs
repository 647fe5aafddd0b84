using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// A text encoder's outputs, named as transformers names them: <paramref name="LastHiddenState"/> [B,N,C]
/// after the final LayerNorm (what SD-1.5 conditions on); <paramref name="HiddenStates"/>, L+1 tensors
/// [B,N,C] before it ([0] the embeddings, [i] after layer i, so [^2] is SDXL's "penultimate");
/// <paramref name="PooledOutput"/> [B,C], the last hidden state at the end token; and for
/// <c>CLIPTextModelWithProjection</c>, <paramref name="TextEmbeds"/> [B,P] = <c>text_projection(pooled)</c>.
/// Owns its tensors.
/// </summary>
public sealed record ClipTextOutput(Tensor LastHiddenState, IReadOnlyList<Tensor> HiddenStates, Tensor PooledOutput, Tensor? TextEmbeds) : IDisposable
{
    public void Dispose()
    {
        LastHiddenState.Dispose();
        foreach (var state in HiddenStates) state.Dispose();
        PooledOutput.Dispose();
        TextEmbeds?.Dispose();
    }
}
