using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Weights;

public sealed class WeightLoaderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    // Exactly representable in F16 and BF16, so any conversion error shows as inequality.
    private static readonly float[] Weight = [0.5f, -1.25f, 2f, 0.125f, -3f, 1f];
    private static readonly float[] Bias = [0.25f, -0.5f, 4f];

    /// <summary>Keys "fc.weight" [3,2], "fc.bias" [3].</summary>
    private static Sequential Model() => nn.Sequential(("fc", nn.Linear(2, 3)));

    private string File(params (string Name, Tensor Value)[] tensors)
    {
        var path = _folder.File("w.safetensors");
        SafetensorsFile.Save(path, tensors.Select(t => KeyValuePair.Create(t.Name, t.Value)));
        return path;
    }

    private static float[] Values(nn.Module module, string key) => module.state_dict()[key].data<float>().ToArray();

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float32)]
    public void Any_float_file_loads_into_an_fp32_module(ScalarType fileType)
    {
        var path = File(("fc.weight", tensor(Weight).reshape(3, 2).to_type(fileType)), ("fc.bias", tensor(Bias).to_type(fileType)));
        var model = Model();

        var report = WeightLoader.Load(model, path);

        Assert.True(report.IsMatch);
        Assert.Equal(2, report.Matched);
        Assert.Equal(ScalarType.Float32, model.state_dict()["fc.weight"].dtype);
        Assert.Equal(Weight, Values(model, "fc.weight"));
        Assert.Equal(Bias, Values(model, "fc.bias"));
        using var output = model.forward(tensor(new[] { 1f, 1f }));
        Assert.Equal(new[] { -0.5f, 1.625f, 2f }, output.data<float>().ToArray());
    }

    [Fact]
    public void F64_values_round_to_nearest_fp32()
    {
        var path = File(("fc.weight", full(3, 2, 0.1, dtype: ScalarType.Float64)), ("fc.bias", zeros(3, dtype: ScalarType.Float64)));
        var model = Model();

        WeightLoader.Load(model, path);

        Assert.All(Values(model, "fc.weight"), v => Assert.Equal((float)0.1, v));
    }

    [Fact]
    public void Strict_load_lists_missing_unexpected_and_misshaped_keys_and_changes_nothing()
    {
        var path = File(("fc.weight", zeros(3, 4)), ("fc.gain", zeros(3)), ("extra.bias", zeros(7)));
        var model = Model();
        var before = Values(model, "fc.weight");

        var error = Assert.Throws<WeightsException>(() => WeightLoader.Load(model, path));

        Assert.Contains(path, error.Message);
        Assert.Contains("1 missing, 2 unexpected, 1 mis-shaped", error.Message);
        Assert.Contains("missing from the file (the model needs them), 1:\n    fc.bias [3]", error.Message.ReplaceLineEndings("\n"));
        Assert.Contains("extra.bias [7]", error.Message);
        Assert.Contains("fc.gain [3]", error.Message);
        Assert.Contains("fc.weight expected [3,2], found [3,4]", error.Message);
        Assert.Contains("load non-strictly", error.Message);
        Assert.Equal(before, Values(model, "fc.weight"));
    }

    [Fact]
    public void Non_strict_load_copies_what_matches_and_reports_the_rest()
    {
        var path = File(("fc.weight", tensor(Weight).reshape(3, 2)), ("other", zeros(1)));
        var model = Model();
        var biasBefore = Values(model, "fc.bias");

        var report = WeightLoader.Load(model, path, strict: false);

        Assert.False(report.IsMatch);
        Assert.Equal(["fc.bias"], report.Missing.Select(k => k.Name));
        Assert.Equal(new TensorKey("other", new long[] { 1 }.ToEquatableArray()), Assert.Single(report.Unexpected));
        Assert.Empty(report.Mismatched);
        Assert.Equal(Weight, Values(model, "fc.weight"));
        Assert.Equal(biasBefore, Values(model, "fc.bias"));
    }

    [Fact]
    public void Long_key_lists_are_capped_with_a_count()
    {
        var path = File(("fc.weight", zeros(3, 2)));
        var expected = Enumerable.Range(0, 25).Select(i => new TensorKey($"down_blocks.{i}.conv.weight", new long[] { 4, 4 }.ToEquatableArray()));

        var report = WeightLoader.CheckAgainstKeys(expected, SafetensorsFile.ReadHeader(path));

        Assert.Equal(25, report.Missing.Count);
        var message = report.Describe();
        Assert.Contains("down_blocks.9.conv.weight [4,4]", message);
        Assert.DoesNotContain("down_blocks.10.", message);
        Assert.Contains("... and 15 more", message);
    }

    [Fact]
    public void Float_file_into_an_integer_buffer_is_refused()
    {
        var path = File(("steps", zeros(2)));
        var model = new WithIntegerBuffer();

        var error = Assert.Throws<WeightsException>(() => WeightLoader.Load(model, path));

        Assert.Contains("tensor 'steps' is F32 but the model holds Int64", error.Message);
    }

    [Fact]
    public void Save_then_load_restores_the_module_and_writes_f32()
    {
        var source = Model();
        source.to(ScalarType.Float64);
        var path = _folder.File("model.safetensors");

        WeightLoader.Save(source, path, new Dictionary<string, string> { ["spec"] = "tiny" });
        var header = SafetensorsFile.ReadHeader(path);
        var target = Model();
        WeightLoader.Load(target, path);

        Assert.All(header.Entries, e => Assert.Equal(ScalarType.Float32, e.DType));
        Assert.Equal("tiny", header.Metadata["spec"]);
        foreach (var key in new[] { "fc.weight", "fc.bias" })
            Assert.Equal(source.state_dict()[key].to_type(ScalarType.Float32).data<float>().ToArray(), Values(target, key));
    }

    [Fact]
    public void A_corrupt_file_is_a_weights_error_when_loading_a_module()
    {
        var path = RawSafetensors.Write(_folder.File("bad.safetensors"), "{\"fc.weight\": {", 0);

        Assert.Throws<WeightsException>(() => WeightLoader.Load(Model(), path));
    }

    private sealed class WithIntegerBuffer : nn.Module
    {
        public WithIntegerBuffer() : base(nameof(WithIntegerBuffer)) => register_buffer("steps", zeros(2, dtype: ScalarType.Int64));
    }
}
