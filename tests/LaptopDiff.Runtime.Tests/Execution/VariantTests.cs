using LaptopDiff.Runtime.Execution;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>Shapes the fixtures do not cover: no mid block (BK-SDM), a ResNet-only mid (SSD-1B), odd latent sizes.</summary>
public sealed class VariantTests
{
    private static UNetLayout Layout(string mid) => LayoutBuilder.BuildOrThrow(SpecParser.Parse("variant.unet.yaml", $$"""
        name: Variant
        sample_size: 13
        cross_attention_dim: 16
        norm: { groups: 4 }
        down:
          - { type: cross_attn, channels: 8, layers: 1, heads: 2 }
          - { type: cross_attn, channels: 16, layers: 1, heads: 2 }
        mid: { type: {{mid}} }
        up:
          - { type: cross_attn, channels: 16, layers: 2, heads: 2 }
          - { type: cross_attn, channels: 8, layers: 2, heads: 2 }
        """).GetSpecOrThrow(), "variant.unet.yaml");

    [Theory]
    [InlineData("none")]
    [InlineData("resnet")]
    public void Mid_variants_and_odd_sizes_run_with_matching_keys(string mid)
    {
        var layout = Layout(mid);
        using var model = new UNet2DCondition(layout);
        Assert.Equal(layout.LiveKeys.Select(k => k.ToString()), model.state_dict().Select(kv => $"{kv.Key} [{string.Join(",", kv.Value.shape)}]"));
        Assert.Equal(mid == "none" ? ["down.0", "down.1", "up.0", "up.1"] : ["down.0", "down.1", "mid", "up.0", "up.1"], layout.FeatureStages);

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var inputs = new UNetInputs(randn(2, 4, 13, 11), tensor(new long[] { 3, 700 }), randn(2, 5, 16));
        var result = model.Forward(inputs, features: true);
        Assert.Equal([2L, 4, 13, 11], result.Sample.shape);
        Assert.Equal([2L, 8, 7, 6], result.Features!["down.0"].shape);                 // ceil(13/2), ceil(11/2)
        Assert.Equal([2L, 16, 13, 11], result.Features!["up.0"].shape);                // upsampled to the skip's size
        Assert.True(result.Sample.isfinite().all().item<bool>());
    }
}
