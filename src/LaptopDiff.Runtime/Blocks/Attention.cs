using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>
/// diffusers' <c>Attention</c> with the default processor: bias-free <c>to_q/to_k/to_v</c>, heads split
/// from the channel dimension, scaled dot-product attention (scale 1/sqrt(head_dim)), and
/// <c>to_out = [Linear, Dropout]</c> so the output projection's key is <c>to_out.0</c>.
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> to_out;

    /// <param name="queryDim">Channels of the hidden states.</param>
    /// <param name="contextDim">Channels of the attended states (== queryDim for self-attention).</param>
    public Attention(int queryDim, int contextDim, int heads) : base(nameof(Attention))
    {
        if (heads <= 0 || queryDim % heads != 0)
            throw new ArgumentException($"{heads} heads do not divide {queryDim} channels", nameof(heads));
        Heads = heads;
        to_q = nn.Linear(queryDim, queryDim, hasBias: false);
        to_k = nn.Linear(contextDim, queryDim, hasBias: false);
        to_v = nn.Linear(contextDim, queryDim, hasBias: false);
        to_out = new ModuleList<nn.Module<Tensor, Tensor>>(nn.Linear(queryDim, queryDim), nn.Dropout(0.0));
        RegisterComponents();
    }

    public int Heads { get; }

    /// <summary>x [B,N,C]; context [B,M,Cx] for cross-attention, null for self-attention -> [B,N,C].</summary>
    public override Tensor forward(Tensor x, Tensor? context)
    {
        using var scope = NewDisposeScope();
        var ctx = context ?? x;
        long b = x.shape[0], n = x.shape[1], c = x.shape[2], m = ctx.shape[1];
        long d = c / Heads;
        var q = to_q.forward(x).view(b, n, Heads, d).transpose(1, 2);            // [B,h,N,d]
        var k = to_k.forward(ctx).view(b, m, Heads, d).transpose(1, 2);          // [B,h,M,d]
        var v = to_v.forward(ctx).view(b, m, Heads, d).transpose(1, 2);          // [B,h,M,d]
        var o = Ops.ScaledDotProductAttention(q, k, v);                          // [B,h,N,d]
        o = o.transpose(1, 2).reshape(b, n, c);                                   // [B,N,C]
        return to_out[0].forward(o).MoveToOuterDisposeScope();               // to_out.1 is dropout(0)
    }
}
