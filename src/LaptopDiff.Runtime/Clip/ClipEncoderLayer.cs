using LaptopDiff.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>transformers' <c>CLIPEncoderLayer</c>, pre-LayerNorm: x + attn(ln1(x)), then + mlp(ln2(.)).</summary>
public sealed class ClipEncoderLayer : nn.Module<Tensor, bool, Tensor>
{
    private readonly ClipAttention self_attn;
    private readonly LayerNorm layer_norm1;
    private readonly ClipMlp mlp;
    private readonly LayerNorm layer_norm2;

    public ClipEncoderLayer(int hidden, int intermediate, int heads, ClipActivation activation, double eps) : base(nameof(ClipEncoderLayer))
    {
        self_attn = new ClipAttention(hidden, heads);
        layer_norm1 = Ops.LayerNorm(hidden, eps);
        mlp = new ClipMlp(hidden, intermediate, activation);
        layer_norm2 = Ops.LayerNorm(hidden, eps);
        RegisterComponents();
    }

    /// <summary>[B,N,C] -> [B,N,C].</summary>
    public override Tensor forward(Tensor x, bool causal)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.forward(layer_norm1.forward(x), causal);
        return (h + mlp.forward(layer_norm2.forward(h))).MoveToOuterDisposeScope();
    }
}
