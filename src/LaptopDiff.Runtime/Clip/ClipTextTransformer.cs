using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Inputs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPTextTransformer</c> (the <c>text_model</c> of every CLIP text checkpoint): embeddings,
/// causal pre-LN encoder, <c>final_layer_norm</c>, pooled at the end token. No padding mask, as diffusers
/// calls it: the causal mask already keeps every token before the end token from seeing the padding.
/// </summary>
public sealed class ClipTextTransformer : nn.Module<Tensor, ClipTextOutput>
{
    private readonly ClipTextEmbeddings embeddings;
    private readonly ClipEncoder encoder;
    private readonly LayerNorm final_layer_norm;

    public ClipTextTransformer(ClipTextConfig config) : base(nameof(ClipTextTransformer))
    {
        Config = config;
        embeddings = new ClipTextEmbeddings(config.VocabSize, config.MaxPositionEmbeddings, config.HiddenSize);
        encoder = new ClipEncoder(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads,
            config.HiddenAct, config.LayerNormEps);
        final_layer_norm = Ops.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <summary>
    /// ids [B,N] int64 (N up to the positions, usually the tokenizer's padded 77) -> outputs without <c>TextEmbeds</c>. The ids may
    /// lie on the CPU (where the tokenizer makes them, and where they are checked): they are moved to the model's device.
    /// </summary>
    public override ClipTextOutput forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        CheckIds(inputIds);
        var ids = inputIds.to(final_layer_norm.weight!.device);
        var states = encoder.forward(embeddings.forward(ids), true);
        var last = final_layer_norm.forward(states[^1]);                          // [B,N,C]
        var positions = ClipPooling.EndTokenPositions(ids, Config.EosTokenId);
        long b = last.shape[0], c = last.shape[2];
        var pooled = last.gather(1, positions.view(b, 1, 1).expand(b, 1, c)).squeeze(1);   // [B,C]
        foreach (var state in states) state.MoveToOuterDisposeScope();
        return new ClipTextOutput(last.MoveToOuterDisposeScope(), states, pooled.MoveToOuterDisposeScope(), null);
    }

    /// <summary><c>final_layer_norm</c> of any hidden state (diffusers' SD clip skip applies it to an earlier layer).</summary>
    public Tensor FinalLayerNorm(Tensor hidden) => final_layer_norm.forward(hidden);

    private void CheckIds(Tensor ids)
    {
        if (ids.dim() != 2 || ids.dtype != ScalarType.Int64)
            throw new InputException($"text encoder input ids must be [batch, tokens] int64; got {ids.dtype} [{string.Join(",", ids.shape)}].");
        if (ids.shape[1] > Config.MaxPositionEmbeddings)
            throw new InputException($"text encoder input has {ids.shape[1]} tokens; the model has {Config.MaxPositionEmbeddings} positions.");
        if (ids.numel() > 0 && (ids.min().item<long>() < 0 || ids.max().item<long>() >= Config.VocabSize))
            throw new InputException($"text encoder input ids must lie in 0..{Config.VocabSize - 1} (the model's vocabulary).");
    }
}
