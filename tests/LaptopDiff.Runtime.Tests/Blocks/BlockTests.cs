using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Blocks;

/// <summary>Per-block checks: keys, formulas that the fixtures only see through the whole network.</summary>
public sealed class BlockTests
{
    private static List<string> Keys(nn.Module m) => m.state_dict().Select(kv => $"{kv.Key} [{string.Join(",", kv.Value.shape)}]").ToList();

    [Fact]
    public void Resnet_keys_and_shortcut_only_when_channels_change()
    {
        using var same = new ResnetBlock2D(32, 32, 128, 8, 1e-5);
        Assert.Equal(["norm1.weight [32]", "norm1.bias [32]", "conv1.weight [32,32,3,3]", "conv1.bias [32]",
            "time_emb_proj.weight [32,128]", "time_emb_proj.bias [32]", "norm2.weight [32]", "norm2.bias [32]",
            "conv2.weight [32,32,3,3]", "conv2.bias [32]"], Keys(same));
        using var change = new ResnetBlock2D(96, 64, 128, 8, 1e-5);
        Assert.Equal(["conv_shortcut.weight [64,96,1,1]", "conv_shortcut.bias [64]"], Keys(change).Skip(10));
    }

    [Fact]
    public void Transformer_block_keys_are_diffusers_paths()
    {
        using var block = new BasicTransformerBlock(16, 2, 8, 1e-5);
        Assert.Equal(["norm1.weight [16]", "norm1.bias [16]",
            "attn1.to_q.weight [16,16]", "attn1.to_k.weight [16,16]", "attn1.to_v.weight [16,16]", "attn1.to_out.0.weight [16,16]", "attn1.to_out.0.bias [16]",
            "norm2.weight [16]", "norm2.bias [16]",
            "attn2.to_q.weight [16,16]", "attn2.to_k.weight [16,8]", "attn2.to_v.weight [16,8]", "attn2.to_out.0.weight [16,16]", "attn2.to_out.0.bias [16]",
            "norm3.weight [16]", "norm3.bias [16]",
            "ff.net.0.proj.weight [128,16]", "ff.net.0.proj.bias [128]", "ff.net.2.weight [16,64]", "ff.net.2.bias [16]"], Keys(block));
    }

    [Fact]
    public void Timesteps_are_cos_then_sin_in_float32()
    {
        using var proj = new Timesteps(8, flipSinToCos: true, freqShift: 0);
        using var t = tensor(new long[] { 0, 999 });
        using var emb = proj.forward(t);
        Assert.Equal(ScalarType.Float32, emb.dtype);
        Assert.Equal([2L, 8L], emb.shape);
        for (int i = 0; i < 4; i++)
        {
            double f = Math.Exp(-Math.Log(10000) * i / 4);
            Assert.Equal(Math.Cos(999 * f), emb[1, i].item<float>(), 3);
            Assert.Equal(Math.Sin(999 * f), emb[1, 4 + i].item<float>(), 3);
            Assert.Equal(1f, emb[0, i].item<float>());
            Assert.Equal(0f, emb[0, 4 + i].item<float>());
        }
        using var unflipped = new Timesteps(8, flipSinToCos: false, freqShift: 1).forward(t);
        double f1 = Math.Exp(-Math.Log(10000) * 1 / 3.0);                           // freq_shift 1: divide by half - 1
        Assert.Equal(Math.Sin(999 * f1), unflipped[1, 1].item<float>(), 3);
    }

    [Fact]
    public void Geglu_uses_exact_gelu()
    {
        using var geglu = new GEGLU(1, 1);
        using (no_grad())
        {
            foreach (var (_, p) in geglu.named_parameters()) p.zero_();
            var w = geglu.named_parameters().Single(p => p.name == "proj.weight").parameter;
            w[0, 0] = tensor(1f);                                                    // hidden = x
            w[1, 0] = tensor(1f);                                                    // gate = x
        }
        using var x = tensor(new float[] { -1.5f, 0.7f, 2.0f }).reshape(3, 1);
        using var y = geglu.forward(x);
        foreach (var (i, v) in new[] { (0, -1.5), (1, 0.7), (2, 2.0) })
        {
            double exact = v * v * 0.5 * (1 + Erf(v / Math.Sqrt(2)));
            Assert.Equal(exact, y[i, 0].item<float>(), 5);
        }
    }

    [Fact]
    public void Attention_splits_heads_like_the_reference_formula()
    {
        using var attn = new Attention(8, 6, heads: 2);
        using var scope = NewDisposeScope();
        var x = randn(2, 5, 8);
        var ctx = randn(2, 3, 6);
        var p = attn.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        var q = nn.functional.linear(x, p["to_q.weight"]).view(2, 5, 2, 4).permute(0, 2, 1, 3);     // [B,h,N,d]
        var k = nn.functional.linear(ctx, p["to_k.weight"]).view(2, 3, 2, 4).permute(0, 2, 1, 3);   // [B,h,M,d]
        var v = nn.functional.linear(ctx, p["to_v.weight"]).view(2, 3, 2, 4).permute(0, 2, 1, 3);
        var w = (q.matmul(k.transpose(-1, -2)) / Math.Sqrt(4)).softmax(-1);
        var o = w.matmul(v).permute(0, 2, 1, 3).reshape(2, 5, 8);                                   // [B,N,C]
        var expected = nn.functional.linear(o, p["to_out.0.weight"], p["to_out.0.bias"]);
        Assert.True(attn.forward(x, ctx).allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData(Ops.ComposedAttentionMaxKeys)]        // composed
    [InlineData(Ops.ComposedAttentionMaxKeys + 1)]    // libtorch's fused kernel
    public void Attention_on_either_side_of_the_key_threshold_matches_float64(int keys)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var inputs = new[] { randn(new long[] { 2, 3, 40, 8 }, generator: generator), randn(new long[] { 2, 3, keys, 8 }, generator: generator),
            randn(new long[] { 2, 3, keys, 8 }, generator: generator) };
        var upstream = randn(new long[] { 2, 3, 40, 8 }, generator: generator);
        var (output, grads) = AttentionWithGradients(inputs, upstream, (q, k, v) => Ops.ScaledDotProductAttention(q, k, v));
        var (expected, expectedGrads) = AttentionWithGradients(inputs.Select(t => t.to_type(ScalarType.Float64)).ToArray(),
            upstream.to_type(ScalarType.Float64),
            (q, k, v) => (q.matmul(k.transpose(-1, -2)) / Math.Sqrt(8)).softmax(-1).matmul(v));
        Assert.True(output.to_type(ScalarType.Float64).allclose(expected, rtol: 1e-4, atol: 1e-5));
        for (int i = 0; i < 3; i++)
            Assert.True(grads[i].to_type(ScalarType.Float64).allclose(expectedGrads[i], rtol: 1e-4, atol: 1e-5), $"gradient {i}");
    }

    private static (Tensor Output, Tensor[] Grads) AttentionWithGradients(Tensor[] inputs, Tensor upstream, Func<Tensor, Tensor, Tensor, Tensor> attention)
    {
        var leaves = inputs.Select(t => t.detach().requires_grad_(true)).ToArray();
        var output = attention(leaves[0], leaves[1], leaves[2]);
        output.backward([upstream]);
        return (output.detach(), leaves.Select(t => t.grad!).ToArray());
    }

    [Fact]
    public void Conv_and_linear_projections_compute_the_same_transformer()
    {
        var norms = new NormSpec();
        using var conv = new Transformer2DModel(16, 2, 1, [0], 8, 4, norms, AttentionProjection.Conv);
        using var linear = new Transformer2DModel(16, 2, 1, [0], 8, 4, norms, AttentionProjection.Linear);
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            var src = conv.state_dict();
            foreach (var (name, p) in linear.state_dict()) p.copy_(src[name].reshape(p.shape));
        }
        var x = randn(2, 16, 3, 5);
        var ctx = randn(2, 4, 8);
        Assert.True(conv.forward(x, ctx).allclose(linear.forward(x, ctx), rtol: 1e-5, atol: 1e-6));
        // against the conv path as diffusers writes it: proj_in as a 1x1 convolution over [B,C,H,W]
        var sd = conv.state_dict();
        var h = nn.functional.group_norm(x, 4, sd["norm.weight"], sd["norm.bias"], 1e-6);
        h = nn.functional.conv2d(h, sd["proj_in.weight"], sd["proj_in.bias"]);
        var tokens = h.permute(0, 2, 3, 1).reshape(2, 15, 16);
        tokens = conv.TransformerBlocks[0].forward(tokens, ctx);
        var back = tokens.reshape(2, 3, 5, 16).permute(0, 3, 1, 2).contiguous();
        var expected = nn.functional.conv2d(back, sd["proj_out.weight"], sd["proj_out.bias"]) + x;
        Assert.True(conv.forward(x, ctx).allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Upsample_follows_the_skip_size_and_downsample_halves()
    {
        using var up = new Upsample2D(4);
        using var down = new Downsample2D(4);
        using var scope = NewDisposeScope();
        var x = randn(1, 4, 5, 7);
        Assert.Equal([1L, 4, 3, 4], down.forward(x).shape);
        Assert.Equal([1L, 4, 10, 14], up.forward(x).shape);
        Assert.Equal([1L, 4, 9, 13], up.forward(x, (9L, 13L)).shape);
    }

    // Abramowitz-Stegun 7.1.26 is too coarse; use the series/continued fraction via Math for |x| <= 3.
    private static double Erf(double x)
    {
        double sum = 0, term = x;
        for (int n = 0; n < 60; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
