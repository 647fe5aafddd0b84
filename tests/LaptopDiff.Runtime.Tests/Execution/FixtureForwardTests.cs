using LaptopDiff.Runtime.Execution;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>The C# U-Net is the same function as diffusers': output and every stage output of the fixtures.</summary>
public sealed class FixtureForwardTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TinyUNets.Sd15)]
    [InlineData(TinyUNets.Sdxl)]
    public void Forward_matches_diffusers_output_and_stage_outputs(string fixture)
    {
        using var model = TinyUNets.Load(fixture);
        var io = TinyUNets.Io(fixture);
        var inputs = TinyUNets.Inputs(fixture);
        using var _ = no_grad();
        using var scope = NewDisposeScope();

        var result = model.Forward(inputs, features: true);
        Report("out", Close.Assert(result.Sample, io["out"], $"{fixture} out"));

        Assert.Equal(model.Layout.FeatureStages, result.Features!.Keys);
        foreach (var (stage, feature) in result.Features)
        {
            var name = "inter." + ExecutionPlan.DiffusersStageName(stage);
            Report(name, Close.Assert(feature, io[name], $"{fixture} {name}"));
        }

        long batch = inputs.Sample.shape[0];
        Report("inter.time_proj", Close.Assert(model.ProjectTime(inputs.Timestep, batch), io["inter.time_proj"], $"{fixture} time_proj"));
        Report("inter.time_embedding", Close.Assert(model.EmbedTime(inputs.Timestep, batch), io["inter.time_embedding"], $"{fixture} time_embedding"));
        if (inputs.TextEmbeds is not null)
            Report("inter.add_embedding", Close.Assert(model.EmbedAddition(inputs.TextEmbeds, inputs.TimeIds!), io["inter.add_embedding"], $"{fixture} add_embedding"));

        // conv_in through the plan: the state just after the ConvIn step
        using var state = model.Plan.Capture(inputs, model.Plan.StepOf("conv_in") + 1);
        Report("inter.conv_in", Close.Assert(state.Hidden!, io["inter.conv_in"], $"{fixture} conv_in"));
        Assert.Single(state.Skips);

        void Report(string name, (double RelL2, double MaxAbs) e) => output.WriteLine($"{fixture} {name}: rel L2 {e.RelL2:E2}, max abs {e.MaxAbs:E2}");
    }

    [Fact]
    public void Scalar_and_single_timesteps_broadcast_to_the_batch()
    {
        using var model = TinyUNets.Load(TinyUNets.Sd15);
        var inputs = TinyUNets.Inputs(TinyUNets.Sd15);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var t = tensor(new long[] { 421, 421 });
        var full = model.Forward(inputs with { Timestep = t }).Sample;
        Close.Same(model.Forward(inputs with { Timestep = tensor(421L) }).Sample, full, "scalar timestep");
        Close.Same(model.Forward(inputs with { Timestep = tensor(new float[] { 421f }) }).Sample, full, "float [1] timestep");
    }

    [Fact]
    public void Missing_text_time_inputs_are_named()
    {
        using var model = TinyUNets.Load(TinyUNets.Sdxl);
        var inputs = TinyUNets.Inputs(TinyUNets.Sdxl) with { TextEmbeds = null };
        using var _ = no_grad();
        var e = Assert.Throws<ArgumentException>(() => model.Forward(inputs));
        Assert.Contains("TextEmbeds", e.Message);
    }
}
