using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>
/// diffusers' <c>BasicTransformerBlock</c> (layer_norm, self then cross attention, GEGLU feed-forward):
/// <c>h += attn1(norm1(h)); h += attn2(norm2(h), context); h += ff(norm3(h))</c>.
/// </summary>
public sealed class BasicTransformerBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly Attention attn1;
    private readonly LayerNorm norm2;
    private readonly Attention attn2;
    private readonly LayerNorm norm3;
    private readonly FeedForward ff;

    public BasicTransformerBlock(int channels, int heads, int crossAttentionDim, double layerNormEps)
        : base(nameof(BasicTransformerBlock))
    {
        norm1 = Ops.LayerNorm(channels, layerNormEps);
        attn1 = new Attention(channels, channels, heads);
        norm2 = Ops.LayerNorm(channels, layerNormEps);
        attn2 = new Attention(channels, crossAttentionDim, heads);
        norm3 = Ops.LayerNorm(channels, layerNormEps);
        ff = new FeedForward(channels);
        RegisterComponents();
    }

    public IReadOnlyList<LayerNorm> Norms => new[] { norm1, norm2, norm3 };

    /// <summary>x [B,N,C] tokens, context [B,M,Cx] encoder states -> [B,N,C].</summary>
    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        var h = attn1.forward(Ops.Norm(norm1, x), null).add_(x);                   // self-attention + residual
        h = attn2.forward(Ops.Norm(norm2, h), context).add_(h);                    // cross-attention + residual
        h = ff.forward(Ops.Norm(norm3, h)).add_(h);                                // feed-forward + residual
        return h.MoveToOuterDisposeScope();
    }
}
