using LaptopDiff.Models;
using LaptopDiff.Spec;
using TorchSharp;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>A generated class's typed members and Unit overloads reach the runtime's own modules, masks and steps.</summary>
public sealed class GeneratedModelTests
{
    [Fact]
    public void Typed_members_are_the_modules_registered_under_their_diffusers_keys()
    {
        using var model = new TinySd15UNet();
        var type = typeof(TinySd15UNet);
        var live = model.Layout.Components.Where(c => c.Kind is ComponentKind.Resnet or ComponentKind.Transformer or ComponentKind.Downsampler or ComponentKind.Upsampler).ToList();
        Assert.Equal(18 + 2, live.Count);   // its 18 units, a downsampler and an upsampler
        foreach (var c in live)
            Assert.Same(model.GetComponent(c.Id), type.GetProperty(c.Id.Replace('.', '_'))!.GetValue(model));
        // the parameter count in a member's documentation is the module's
        Assert.Equal(65_984L, model.down_blocks_1_resnets_0.parameters().Sum(p => p.numel()));
        Assert.Same(model.Stage(StageId.Mid), model.mid_block);
        Assert.Equal(TinySd15UNet.LayerTable.Where(r => r.Stage == "up.1").Sum(r => r.ParamCount), model.up_blocks_1.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Units_name_masks_steps_and_students()
    {
        using var model = new TinySd15UNet();
        Assert.Equal(model.Plan.Mask("down_blocks.0.resnets.1", "up_blocks.1.attentions.2"),
            model.Mask(TinySd15UNet.Unit.Down0Resnet1, TinySd15UNet.Unit.Up1Attention2));
        Assert.Equal(model.Plan.StepOf("mid_block.attentions.0"), model.StepOf(TinySd15UNet.Unit.MidAttention0));

        // the knapsack's student of the shipped criterion, as the layout of the teacher without its units
        var removed = TinySd15UNetPruned50.SpecLayout.Removed.Select(id => Enum.GetValues<TinySd15UNet.Unit>().Single(u => TinySd15UNet.UnitId(u) == id)).ToArray();
        var student = TinySd15UNet.WithRemoved(removed);
        Assert.Equal(TinySd15UNetPruned50.TotalParamCount, student.TotalParamCount);
        Assert.Equal(TinySd15UNetPruned50.SpecLayout.LiveKeys, student.LiveKeys);
        foreach (var id in student.Removed) Assert.Null(typeof(TinySd15UNetPruned50).GetProperty(id.Replace('.', '_')));
    }
}
