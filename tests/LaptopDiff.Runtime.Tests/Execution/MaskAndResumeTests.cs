using LaptopDiff.Runtime.Execution;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>
/// One plan for every use: a masked forward is the pruned model's forward; a forward resumed from a
/// captured state is the full forward; features come out per stage.
/// </summary>
public sealed class MaskAndResumeTests
{
    private static readonly string[] Sd15Removed =
        ["down_blocks.0.resnets.1", "down_blocks.0.attentions.1", "mid_block.attentions.0", "up_blocks.0.resnets.1", "up_blocks.1.resnets.2"];

    private static readonly string[] SdxlBlockRemoved =
        ["down_blocks.0.resnets.1", "down_blocks.2.attentions.1.transformer_blocks.0", "mid_block.attentions.0.transformer_blocks.1",
         "up_blocks.0.attentions.2.transformer_blocks.0", "up_blocks.0.attentions.2.transformer_blocks.1", "up_blocks.2.resnets.1", "mid_block.resnets.1"];

    public static TheoryData<string, PruneGranularity, string[]> Prunings => new()
    {
        { TinyUNets.Sd15, PruneGranularity.Transformer, Sd15Removed },
        { TinyUNets.Sdxl, PruneGranularity.TransformerBlock, SdxlBlockRemoved },
        { TinyUNets.Sdxl, PruneGranularity.Transformer, ["down_blocks.1.attentions.1", "up_blocks.0.attentions.0", "up_blocks.1.resnets.1", "down_blocks.2.resnets.1"] },
    };

    [Theory]
    [MemberData(nameof(Prunings))]
    public void Masked_forward_equals_the_model_with_those_units_removed(string fixture, PruneGranularity granularity, string[] removed)
    {
        using var teacher = TinyUNets.Load(fixture, granularity);
        using var student = TinyUNets.Load(fixture, granularity, removed);
        var inputs = TinyUNets.Inputs(fixture);
        using var _ = no_grad();
        using var scope = NewDisposeScope();

        var masked = teacher.Forward(inputs, teacher.Plan.Mask(removed), features: true);
        var pruned = student.Forward(inputs, features: true);
        Close.Same(masked.Sample, pruned.Sample, "masked vs removed");
        foreach (var stage in teacher.Layout.FeatureStages)
            Close.Same(masked.Features![stage], pruned.Features![stage], $"feature {stage}");

        var full = teacher.Forward(inputs);
        var (rel, _) = Close.Errors(masked.Sample, full.Sample);
        Assert.True(rel > 1e-3, $"masking {removed.Length} units changed the output by only {rel:E2}");

        // the pruned model's own plan refuses nothing it lacks: its removed steps are skipped
        Assert.All(student.Plan.Steps.Where(s => removed.Contains(s.Id)), s => Assert.True(s.Removed));
    }

    [Theory]
    [InlineData(TinyUNets.Sd15, PruneGranularity.Transformer)]
    [InlineData(TinyUNets.Sdxl, PruneGranularity.TransformerBlock)]
    public void Resuming_before_each_unit_with_it_masked_equals_the_full_masked_forward(string fixture, PruneGranularity granularity)
    {
        using var model = TinyUNets.Load(fixture, granularity);
        var plan = model.Plan;
        var inputs = TinyUNets.Inputs(fixture);
        using var _ = no_grad();
        using var scope = NewDisposeScope();

        // the sweep: one teacher forward capturing the state before every prunable unit
        var units = Enumerable.Range(0, plan.Units.Count).Where(u => plan.Units[u].Prunable).ToList();
        var states = new Dictionary<int, PlanState>();
        var teacher = plan.RunCapturing(inputs, units.Select(plan.StepOfUnit), s => states.Add(s.StepIndex, s));
        Close.Same(teacher.Sample, model.Forward(inputs).Sample, "capturing run vs plain run", 0);
        Assert.Equal(units.Count, states.Count);

        foreach (var u in units)
        {
            var mask = plan.Mask(plan.Units[u].Id);
            var state = states[plan.StepOfUnit(u)];
            var resumed = plan.RunFrom(state, mask, features: true);
            var direct = plan.Run(inputs, mask, features: true);
            Close.Same(resumed.Sample, direct.Sample, $"resume before {plan.Units[u].Id}", 0);
            foreach (var stage in model.Layout.FeatureStages.Where(direct.Features!.ContainsKey))
                if (resumed.Features!.TryGetValue(stage, out var f)) Close.Same(f, direct.Features![stage], $"{plan.Units[u].Id} feature {stage}", 0);
        }
        // a state is reusable: resuming twice gives the same result
        var first = states[plan.StepOfUnit(units[0])];
        var mask0 = plan.Mask(plan.Units[units[0]].Id);
        Close.Same(plan.RunFrom(first, plan.StepOfUnit(units[0]), mask0).Sample, plan.RunFrom(first, mask0).Sample, "second resume", 0);
        foreach (var s in states.Values) s.Dispose();
    }

    [Fact]
    public void Capture_and_advance_compose_at_every_step()
    {
        using var model = TinyUNets.Load(TinyUNets.Sdxl, PruneGranularity.TransformerBlock);
        var plan = model.Plan;
        var inputs = TinyUNets.Inputs(TinyUNets.Sdxl);
        var mask = plan.Mask("down_blocks.1.resnets.1", "up_blocks.0.attentions.1.transformer_blocks.1");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var expected = plan.Run(inputs, mask, features: true);

        using var start = plan.Capture(inputs, 0);
        var state = start;
        for (int k = 1; k <= plan.Steps.Count; k++)
        {
            var next = plan.Advance(state, k, mask, features: true);
            if (!ReferenceEquals(state, start)) state.Dispose();
            state = next;
            using var fresh = plan.Capture(inputs, k, mask, features: true);
            Assert.Equal(fresh.Hidden is null, state.Hidden is null);
            if (fresh.Hidden is not null) Close.Same(state.Hidden!, fresh.Hidden, $"state before step {k}", 0);
            Assert.Equal(fresh.Skips.Count, state.Skips.Count);
            if (k % 4 != 0 && plan.Steps[k - 1].Kind is not (StepKind.TransformerEnter or StepKind.TransformerBlock)) continue;
            using var rest = plan.RunFrom(state, mask, features: true);                  // every 4th step and inside transformers
            Close.Same(rest.Sample, expected.Sample, $"resume at step {k}", 0);
            Assert.Equal(expected.Features!.Keys.Order(), rest.Features!.Keys.Order());
        }
        Assert.Empty(state.Skips);
        state.Dispose();
    }

    [Theory]
    [InlineData(TinyUNets.Sd15)]
    [InlineData(TinyUNets.Sdxl)]
    public void Features_are_the_stage_ends_with_their_shapes(string fixture)
    {
        using var model = TinyUNets.Load(fixture);
        var io = TinyUNets.Io(fixture);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var result = model.Forward(TinyUNets.Inputs(fixture), features: true);
        Assert.Equal(model.Layout.FeatureStages.ToList(), result.Features!.Keys.ToList());
        foreach (var (stage, f) in result.Features)
            Assert.Equal(io["inter." + ExecutionPlan.DiffusersStageName(stage)].shape, f.shape);
        // one feature step per stage, the last step of the stage
        var ends = model.Plan.Steps.Where(s => s.EndsStage != null).ToList();
        Assert.Equal(model.Layout.FeatureStages, ends.Select(s => s.EndsStage!));
        foreach (var s in ends) Assert.Equal(s, model.Plan.Steps.Last(x => x.Stage == s.Stage));
        Assert.Null(model.Forward(TinyUNets.Inputs(fixture)).Features);
    }

    [Fact]
    public void Plan_steps_follow_the_layout_and_balance_the_skip_stack()
    {
        using var model = new UNet2DCondition(TinyUNets.Layout(TinyUNets.Sdxl, PruneGranularity.TransformerBlock));
        var steps = model.Plan.Steps;
        Assert.Equal([StepKind.TimeEmbedding, StepKind.AdditionEmbedding, StepKind.ConvIn], steps.Take(3).Select(s => s.Kind));
        Assert.Equal(StepKind.OutputHead, steps[^1].Kind);
        Assert.Equal(steps.Count(s => s.PushesSkip), steps.Count(s => s.Kind == StepKind.UpResnet));
        // a block-granular transformer: Enter, its blocks, Exit
        int enter = model.Plan.StepOf("down_blocks.2.attentions.0");
        Assert.Equal([StepKind.TransformerEnter, StepKind.TransformerBlock, StepKind.TransformerBlock, StepKind.TransformerExit],
            steps.Skip(enter).Take(4).Select(s => s.Kind));
        Assert.True(steps[enter + 3].PushesSkip);
        Assert.Equal(model.Layout.Units.Count(), model.Plan.Units.Count);
    }

    [Fact]
    public void Masks_refuse_units_that_are_not_prunable_or_unknown()
    {
        using var model = new UNet2DCondition(TinyUNets.Layout(TinyUNets.Sd15));
        var e = Assert.Throws<ArgumentException>(() => model.Plan.Mask("down_blocks.1.resnets.0"));
        Assert.Contains("changes channels", e.Message);
        Assert.Throws<ArgumentException>(() => model.Plan.Mask("down_blocks.9.resnets.0"));
        using var other = new UNet2DCondition(TinyUNets.Layout(TinyUNets.Sdxl));
        Assert.Throws<ArgumentException>(() => other.Plan.Run(TinyUNets.Inputs(TinyUNets.Sdxl), model.Plan.Mask("down_blocks.0.resnets.1")));
    }

    [Fact]
    public void A_timed_run_is_the_same_forward_with_one_time_per_step()
    {
        using var model = TinyUNets.Load(TinyUNets.Sd15);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var inputs = TinyUNets.Inputs(TinyUNets.Sd15);
        var mask = model.Plan.Mask("up_blocks.1.attentions.2");
        var stepMs = new double[model.Plan.Steps.Count];
        var timed = model.Plan.RunTimed(inputs, stepMs, mask).Sample;
        Close.Same(timed, model.Plan.Run(inputs, mask).Sample, "timed vs plain", tol: 0);
        // every step ran and was timed; the masked unit is skipped, so it costs less than an equal unskipped one
        Assert.All(stepMs, ms => Assert.True(ms >= 0 && double.IsFinite(ms)));
        Assert.True(stepMs[model.Plan.StepOf("up_blocks.1.attentions.2")] < stepMs[model.Plan.StepOf("up_blocks.1.attentions.1")]);
        Assert.Throws<ArgumentException>(() => model.Plan.RunTimed(inputs, new double[3]));
    }
}
