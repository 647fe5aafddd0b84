using LaptopDiff.Runtime.Inputs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPVisionEmbeddings</c>: a bias-free convolution cuts the image into patch vectors
/// (<c>patch_embedding</c>, kernel = stride = patch size), a learned <c>class_embedding</c> goes first, and
/// <c>position_embedding</c> is added per position.
/// </summary>
public sealed class ClipVisionEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Parameter class_embedding;
    private readonly Conv2d patch_embedding;
    private readonly Embedding position_embedding;
    private readonly int _imageSize;

    public ClipVisionEmbeddings(ClipVisionConfig config) : base(nameof(ClipVisionEmbeddings))
    {
        _imageSize = config.ImageSize;
        class_embedding = nn.Parameter(zeros(config.HiddenSize));
        patch_embedding = nn.Conv2d(3, config.HiddenSize, config.PatchSize, stride: config.PatchSize, bias: false);
        position_embedding = nn.Embedding(config.Positions, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>pixels [B,3,S,S] (S = the configured image size) -> [B,1+P,C].</summary>
    public override Tensor forward(Tensor pixels)
    {
        if (pixels.dim() != 4 || pixels.shape[1] != 3 || pixels.shape[2] != _imageSize || pixels.shape[3] != _imageSize)
            throw new InputException($"the vision tower takes [batch, 3, {_imageSize}, {_imageSize}] pixel values; got [{string.Join(",", pixels.shape)}].");
        using var scope = NewDisposeScope();
        long b = pixels.shape[0];
        var patches = patch_embedding.forward(pixels).flatten(2).transpose(1, 2);    // [B,C,g,g] -> [B,P,C]
        var cls = class_embedding.expand(b, 1, -1);                                  // [B,1,C]
        var embeddings = cat([cls, patches], 1);                                     // [B,1+P,C]
        return (embeddings + position_embedding.weight!).MoveToOuterDisposeScope();
    }
}
