using LaptopDiff.Tests.Shared;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>The module tree's state dict is the layout's live keys: names, shapes and diffusers' order.</summary>
public sealed class StateDictKeyTests
{
    public static TheoryData<string, PruneGranularity, string[]> Layouts => new()
    {
        { TinyUNets.Sd15, PruneGranularity.Transformer, [] },
        { TinyUNets.Sdxl, PruneGranularity.Transformer, [] },
        { TinyUNets.Sdxl, PruneGranularity.TransformerBlock, [] },
        // holes: resnets.1 and attentions.1 gone from down_blocks.0, mid attention gone, up resnet gone
        { TinyUNets.Sd15, PruneGranularity.Transformer, ["down_blocks.0.resnets.1", "down_blocks.0.attentions.1", "mid_block.attentions.0", "up_blocks.1.resnets.2"] },
        // holes inside transformer_blocks, a whole stage's transformer emptied, resnets in every path
        { TinyUNets.Sdxl, PruneGranularity.TransformerBlock,
            ["down_blocks.0.resnets.1", "down_blocks.2.attentions.1.transformer_blocks.0", "mid_block.attentions.0.transformer_blocks.1",
             "up_blocks.0.attentions.2.transformer_blocks.0", "up_blocks.0.attentions.2.transformer_blocks.1", "up_blocks.2.resnets.1", "mid_block.resnets.1"] },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void State_dict_equals_live_keys_in_order(string fixture, PruneGranularity granularity, string[] removed)
    {
        var layout = TinyUNets.Layout(fixture, granularity, removed);
        using var model = new UNet2DCondition(layout);
        var actual = model.state_dict().Select(kv => $"{kv.Key} [{string.Join(",", kv.Value.shape)}]").ToList();
        var expected = layout.LiveKeys.Select(k => k.ToString()).ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(layout.TotalParamCount, model.parameters().Sum(p => p.numel()));
        foreach (var id in removed)
        {
            Assert.Null(model.GetComponent(id));
            Assert.DoesNotContain(actual, k => k.StartsWith(id + ".", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Holes_keep_their_original_indices()
    {
        using var model = new UNet2DCondition(TinyUNets.Layout(TinyUNets.Sd15, PruneGranularity.Transformer, "down_blocks.0.resnets.1"));
        var prefixes = model.state_dict().Keys.Where(k => k.StartsWith("down_blocks.0.resnets.", StringComparison.Ordinal))
            .Select(k => k.Split('.')[3]).Distinct().ToList();
        Assert.Equal(["0"], prefixes);
        Assert.Contains("down_blocks.0.attentions.1.proj_in.weight", model.state_dict().Keys);
    }

    [Theory]
    [InlineData(TinyUNets.Sd15)]
    [InlineData(TinyUNets.Sdxl)]
    public void Inline_specs_expand_to_the_fixture_keys(string fixture)
    {
        var expected = KeyListingFile.Read(TestPaths.DiffusersFixture($"{fixture}.keys.tsv")).Keys
            .Select(k => $"{k.Name} [{k.Shape}]").ToList();
        var layout = TinyUNets.Layout(fixture);
        Assert.Equal(expected, layout.StateDictKeys.Select(k => k.ToString()));
        using var model = new UNet2DCondition(layout);
        Assert.Equal(expected, model.state_dict().Select(kv => $"{kv.Key} [{string.Join(",", kv.Value.shape)}]"));
    }
}
