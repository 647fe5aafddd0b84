using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPAttention</c>: <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>out_proj</c>, all with
/// biases; heads split from the channels; scale 1/sqrt(head_dim). The text tower attends causally (each token
/// sees itself and those before it), the vision tower to every patch.
/// </summary>
public sealed class ClipAttention : nn.Module<Tensor, bool, Tensor>
{
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear out_proj;
    private readonly int _heads;

    public ClipAttention(int hidden, int heads) : base(nameof(ClipAttention))
    {
        _heads = heads;
        q_proj = nn.Linear(hidden, hidden);
        k_proj = nn.Linear(hidden, hidden);
        v_proj = nn.Linear(hidden, hidden);
        out_proj = nn.Linear(hidden, hidden);
        RegisterComponents();
    }

    /// <summary>x [B,N,C] -> [B,N,C].</summary>
    public override Tensor forward(Tensor x, bool causal)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], c = x.shape[2], d = c / _heads;
        var q = q_proj.forward(x).view(b, n, _heads, d).transpose(1, 2);          // [B,h,N,d]
        var k = k_proj.forward(x).view(b, n, _heads, d).transpose(1, 2);          // [B,h,N,d]
        var v = v_proj.forward(x).view(b, n, _heads, d).transpose(1, 2);          // [B,h,N,d]
        var o = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: causal);  // [B,h,N,d]
        o = o.transpose(1, 2).reshape(b, n, c);                                   // [B,N,C]
        return out_proj.forward(o).MoveToOuterDisposeScope();
    }
}
