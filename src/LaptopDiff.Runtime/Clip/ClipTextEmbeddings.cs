using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPTextEmbeddings</c>: <c>token_embedding</c> plus learned <c>position_embedding</c> of
/// positions 0..N-1. transformers' <c>position_ids</c> buffer is just that range, so it is not a key here
/// (<see cref="ClipWeights"/> accepts files that still carry it).
/// </summary>
public sealed class ClipTextEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Embedding token_embedding;
    private readonly Embedding position_embedding;

    public ClipTextEmbeddings(int vocabSize, int maxPositions, int hidden) : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = nn.Embedding(vocabSize, hidden);
        position_embedding = nn.Embedding(maxPositions, hidden);
        RegisterComponents();
    }

    /// <summary>ids [B,N] int64 -> [B,N,C].</summary>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        long n = inputIds.shape[1];
        var positions = position_embedding.weight!.narrow(0, 0, n);               // [N,C]
        return (token_embedding.forward(inputIds) + positions).MoveToOuterDisposeScope();
    }
}
