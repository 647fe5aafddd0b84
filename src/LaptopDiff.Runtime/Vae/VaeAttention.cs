using LaptopDiff.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// The VAE mid block's diffusers <c>Attention</c>: its own <c>group_norm</c> (eps 1e-6), one head over all channels
/// (the VAE sets the head size to the channel count), biased <c>to_q/to_k/to_v</c>, <c>to_out = [Linear, Dropout]</c>
/// and a residual connection (<c>rescale_output_factor</c> 1): <c>out = x + to_out(attention(group_norm(x)))</c>.
/// </summary>
public sealed class VaeAttention : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm group_norm;
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> to_out;

    public VaeAttention(int channels, int groups) : base(nameof(VaeAttention))
    {
        group_norm = Ops.GroupNorm(groups, channels, VaeResnetBlock.Eps);
        to_q = nn.Linear(channels, channels);
        to_k = nn.Linear(channels, channels);
        to_v = nn.Linear(channels, channels);
        to_out = new ModuleList<nn.Module<Tensor, Tensor>>(nn.Linear(channels, channels), nn.Dropout(0.0));
        RegisterComponents();
    }

    /// <summary>[B,C,H,W] -> [B,C,H,W].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var tokens = group_norm.forward(x).view(b, c, h * w).transpose(1, 2);    // [B,N,C]
        var q = to_q.forward(tokens).unsqueeze(1);                                // [B,1,N,C]
        var k = to_k.forward(tokens).unsqueeze(1);                                // [B,1,N,C]
        var v = to_v.forward(tokens).unsqueeze(1);                                // [B,1,N,C]
        var o = nn.functional.scaled_dot_product_attention(q, k, v).squeeze(1);   // [B,N,C], scale 1/sqrt(C)
        o = to_out[0].forward(o).transpose(1, 2).reshape(b, c, h, w);             // [B,C,H,W]; to_out.1 is dropout(0)
        return x.add(o).MoveToOuterDisposeScope();                                // x first: the sum keeps x's layout
    }
}
