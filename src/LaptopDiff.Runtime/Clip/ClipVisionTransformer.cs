using LaptopDiff.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPVisionTransformer</c> (the <c>vision_model</c> of a CLIP checkpoint): embeddings,
/// <c>pre_layrnorm</c> (transformers' spelling), the encoder attending to every position, and the pooled
/// output <c>post_layernorm</c> of the class token.
/// </summary>
public sealed class ClipVisionTransformer : nn.Module<Tensor, Tensor>
{
    private readonly ClipVisionEmbeddings embeddings;
    private readonly LayerNorm pre_layrnorm;
    private readonly ClipEncoder encoder;
    private readonly LayerNorm post_layernorm;

    public ClipVisionTransformer(ClipVisionConfig config) : base(nameof(ClipVisionTransformer))
    {
        embeddings = new ClipVisionEmbeddings(config);
        pre_layrnorm = Ops.LayerNorm(config.HiddenSize, config.LayerNormEps);
        encoder = new ClipEncoder(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads,
            config.HiddenAct, config.LayerNormEps);
        post_layernorm = Ops.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    /// <summary>pixel values [B,3,S,S] (preprocessed) -> pooled output [B,C].</summary>
    public override Tensor forward(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        var states = encoder.forward(pre_layrnorm.forward(embeddings.forward(pixelValues)), false);
        var classToken = states[^1].select(1, 0);                                   // [B,C]
        return post_layernorm.forward(classToken).MoveToOuterDisposeScope();
    }
}
