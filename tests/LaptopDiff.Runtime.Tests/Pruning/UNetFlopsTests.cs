using LaptopDiff.Runtime.Specs;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Pruning;

/// <summary>
/// FLOPs counted from the layout equal a count by hand from diffusers' tiny-sd15 architecture (its config.json):
/// block_out_channels [32, 64], CrossAttnDownBlock2D + DownBlock2D, 2 layers per block, a cross-attention mid block,
/// UpBlock2D + CrossAttnUpBlock2D (3 ResNets each), time embedding 4 x 32 = 128, cross_attention_dim 32, 1x1-conv
/// projections, GEGLU feed-forward (inner 4C, projected to 8C). Counted at batch 2, 16x16 latents, 7 text tokens;
/// the rule: 2 x multiply-adds of convolutions, linear layers and the two attention matmuls.
/// </summary>
public class UNetFlopsTests
{
    private const long B = 2, T = 7, X = 32, Temb = 128;

    private static long Conv(long h, long w, long cin, long cout, long k) => 2 * B * h * w * cin * cout * k * k;
    private static long Linear(long rows, long inDim, long outDim) => 2 * rows * inDim * outDim;

    /// <summary>A diffusers ResnetBlock2D at h x w: conv1, time_emb_proj over the batch, conv2, and the 1x1 shortcut when channels change.</summary>
    private static long Resnet(long hw, long cin, long cout) =>
        Conv(hw, hw, cin, cout, 3) + Linear(B, Temb, cout) + Conv(hw, hw, cout, cout, 3) + (cin != cout ? Conv(hw, hw, cin, cout, 1) : 0);

    /// <summary>
    /// A Transformer2DModel of one BasicTransformerBlock at h x w with C channels: proj_in and proj_out (1x1 convs);
    /// attn1: to_q, to_k, to_v, to_out over S = h w positions, Q K^T and the weighted sum (S x S x C each);
    /// attn2: to_q and to_out over S, to_k and to_v over the T text tokens (X -> C), Q K^T and the weighted sum (S x T x C);
    /// ff: GEGLU proj C -> 8C, then 4C -> C.
    /// </summary>
    private static long Transformer(long hw, long c)
    {
        long s = hw * hw, rows = B * s;
        long shell = 2 * Conv(hw, hw, c, c, 1);
        long attn1 = 4 * Linear(rows, c, c) + 2 * (2 * B * s * s * c);
        long attn2 = 2 * Linear(rows, c, c) + 2 * Linear(B * T, X, c) + 2 * (2 * B * s * T * c);
        long ff = Linear(rows, c, 8 * c) + Linear(rows, 4 * c, c);
        return shell + attn1 + attn2 + ff;
    }

    [Fact]
    public void TinySd15MatchesTheHandCount()
    {
        var layout = SpecFiles.LoadLayout(TestPaths.DiffusersFixture("tiny-sd15.config.json"));
        var expected = new Dictionary<string, long>
        {
            ["time_embedding"] = Linear(B, 32, Temb) + Linear(B, Temb, Temb),
            ["conv_in"] = Conv(16, 16, 4, 32, 3),
            // down 0: 32 channels at 16x16, then a stride-2 conv to 8x8
            ["down_blocks.0.resnets.0"] = Resnet(16, 32, 32),
            ["down_blocks.0.attentions.0"] = Transformer(16, 32),
            ["down_blocks.0.resnets.1"] = Resnet(16, 32, 32),
            ["down_blocks.0.attentions.1"] = Transformer(16, 32),
            ["down_blocks.0.downsamplers.0"] = Conv(8, 8, 32, 32, 3),
            // down 1: 64 channels at 8x8, no downsampler (last block)
            ["down_blocks.1.resnets.0"] = Resnet(8, 32, 64),
            ["down_blocks.1.resnets.1"] = Resnet(8, 64, 64),
            ["mid_block.resnets.0"] = Resnet(8, 64, 64),
            ["mid_block.attentions.0"] = Transformer(8, 64),
            ["mid_block.resnets.1"] = Resnet(8, 64, 64),
            // up 0 at 8x8: h 64 + skips 64 (down 1 layer 1), 64 (down 1 layer 0), 32 (the downsampler); then 2x up and a conv at 16x16
            ["up_blocks.0.resnets.0"] = Resnet(8, 128, 64),
            ["up_blocks.0.resnets.1"] = Resnet(8, 128, 64),
            ["up_blocks.0.resnets.2"] = Resnet(8, 96, 64),
            ["up_blocks.0.upsamplers.0"] = Conv(16, 16, 64, 64, 3),
            // up 1 at 16x16: h 64 then 32, + skips 32 (down 0 layer 1), 32 (down 0 layer 0), 32 (conv_in)
            ["up_blocks.1.resnets.0"] = Resnet(16, 96, 32),
            ["up_blocks.1.attentions.0"] = Transformer(16, 32),
            ["up_blocks.1.resnets.1"] = Resnet(16, 64, 32),
            ["up_blocks.1.attentions.1"] = Transformer(16, 32),
            ["up_blocks.1.resnets.2"] = Resnet(16, 64, 32),
            ["up_blocks.1.attentions.2"] = Transformer(16, 32),
            ["conv_norm_out"] = Conv(16, 16, 32, 4, 3),
        };
        var shape = new CostShape((int)B, 16, 16, (int)T);
        var counted = UNetFlops.Count(layout, shape);
        foreach (var (id, flops) in expected) Assert.True(counted.TryGetValue(id, out var c) && c == flops, $"{id}: expected {flops:N0}, counted {c:N0}");
        Assert.Equal(expected.Values.Sum(), UNetFlops.Step(layout, shape));
        // the helper's arithmetic done once on paper for the 16x16 transformer: shell 2,097,152 + attn1 20,971,520
        // + attn2 2,613,248 + ff 12,582,912
        Assert.Equal(38_264_832L, Transformer(16, 32));
    }
}
