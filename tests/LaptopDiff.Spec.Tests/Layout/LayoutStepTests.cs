using LaptopDiff.Spec.Tests.Pruning;

namespace LaptopDiff.Spec.Tests.Layout;

/// <summary>The layout records the forward: which component each step runs, which steps push and pop skips, which end a stage.</summary>
public class LayoutStepTests
{
    private static string Id(UNetLayout layout, LayoutStep step) => layout.Components[step.Component].Id;

    [Fact]
    public void TinySd15PushesAfterConvInEachDownLayerAndEachDownsampler()
    {
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        Assert.Equal(new[] { "conv_in", "down_blocks.0.attentions.0", "down_blocks.0.attentions.1", "down_blocks.0.downsamplers.0",
                "down_blocks.1.resnets.0", "down_blocks.1.resnets.1" },
            layout.Steps.Where(s => s.PushesSkip).Select(s => Id(layout, s)));
        Assert.Equal(new[] { "up_blocks.0.resnets.0", "up_blocks.0.resnets.1", "up_blocks.0.resnets.2",
                "up_blocks.1.resnets.0", "up_blocks.1.resnets.1", "up_blocks.1.resnets.2" },
            layout.Steps.Where(s => s.PopsSkip).Select(s => Id(layout, s)));
        Assert.Equal(new[] { "down_blocks.0.downsamplers.0", "down_blocks.1.resnets.1", "mid_block.resnets.1", "up_blocks.0.upsamplers.0", "up_blocks.1.attentions.2" },
            layout.Steps.Where(s => s.EndsStage).Select(s => Id(layout, s)));
        Assert.Equal(new[] { "down.0", "down.1", "mid", "up.0", "up.1" }, layout.FeatureStages);
        // one step per component at transformer granularity, in the components' (execution) order
        Assert.Equal(Enumerable.Range(0, layout.Components.Count), layout.Steps.Select(s => s.Component));
    }

    [Theory]
    [InlineData("tiny-sd15.unet.yaml")]
    [InlineData("tiny-sdxl.unet.yaml")]
    [InlineData("sd15.unet.yaml")]
    [InlineData("sdxl.unet.yaml")]
    [InlineData("digits.unet.yaml")]
    public void EachPoppedSkipHasTheChannelsItsResnetConcatenates(string spec)
    {
        var layout = Synthetic.Layout(spec);
        var skips = new Stack<int>();
        foreach (var step in layout.Steps)
        {
            var c = layout.Components[step.Component];
            if (step.PopsSkip) Assert.Equal(skips.Pop(), c.SkipChannels);
            if (step.PushesSkip) skips.Push(c.OutChannels);
        }
        Assert.Empty(skips);
    }

    [Fact]
    public void ABlockGranularTransformerIsEnteredAndLeftAroundItsBlocks()
    {
        var layout = Synthetic.Layout("tiny-sdxl.unet.yaml");   // granularity transformer_block, depth 2 in down_blocks.2
        int shell = layout.Components.ToList().FindIndex(c => c.Id == "down_blocks.2.attentions.0");
        int enter = layout.Steps.ToList().FindIndex(s => s.Component == shell);
        var steps = layout.Steps.Skip(enter).Take(4).ToList();
        Assert.Equal(new[] { StepKind.TransformerEnter, StepKind.TransformerBlock, StepKind.TransformerBlock, StepKind.TransformerExit }, steps.Select(s => s.Kind));
        Assert.Equal(new[] { "down_blocks.2.attentions.0", "down_blocks.2.attentions.0.transformer_blocks.0", "down_blocks.2.attentions.0.transformer_blocks.1", "down_blocks.2.attentions.0" },
            steps.Select(s => Id(layout, s)));
        Assert.Equal(new[] { false, false, false, true }, steps.Select(s => s.PushesSkip));   // the layer's output is the transformer's
        Assert.All(layout.Components.Where(c => c.Stage == StageId.Down(2)), c => Assert.Equal(StagePath.Down, c.Stage.Path));
    }

    [Fact]
    public void StagesAreTypedAndKeepTheirLabels()
    {
        Assert.Equal(("down.1", "down_blocks.1"), (StageId.Down(1).Label, StageId.Down(1).DiffusersName));
        Assert.Equal(("mid", "mid_block"), (StageId.Mid.Label, StageId.Mid.DiffusersName));
        Assert.Equal(("up.2", "up_blocks.2"), (StageId.Up(2).Label, StageId.Up(2).DiffusersName));
        foreach (var stage in new[] { StageId.Stem, StageId.Down(0), StageId.Mid, StageId.Up(3), StageId.Head })
            Assert.Equal(stage, StageId.Parse(stage.Label));
        Assert.False(StageId.Stem.IsBlock);
        Assert.Throws<InvalidOperationException>(() => StageId.Head.DiffusersName);
        Assert.Throws<ArgumentException>(() => StageId.Parse("down_blocks.1"));
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        Assert.Equal(StageId.Up(1), layout.Components.Single(c => c.Id == "up_blocks.1.resnets.2").Stage);
        Assert.Equal(StageId.Stem, layout.Components.Single(c => c.Id == "conv_in").Stage);
    }
}
