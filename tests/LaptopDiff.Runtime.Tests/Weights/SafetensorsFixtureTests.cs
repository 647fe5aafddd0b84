using LaptopDiff.Tests.Shared;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Weights;

/// <summary>The diffusers-made reference files: real key names, shapes and values.</summary>
public sealed class SafetensorsFixtureTests
{
    private static readonly string Weights = TestPaths.DiffusersFixture("tiny-sd15.safetensors");
    private static readonly string Io = TestPaths.DiffusersFixture("tiny-sd15.io.safetensors");

    [Fact]
    public void Tiny_sd15_header_matches_the_diffusers_key_listing()
    {
        var (keys, total) = KeyListingFile.ReadTensorKeys(TestPaths.DiffusersFixture("tiny-sd15.keys.tsv"));

        var header = SafetensorsFile.ReadHeader(Weights);

        Assert.Equal(keys.OrderBy(k => k.Name, StringComparer.Ordinal).Select(k => k.ToString()),
                     header.Entries.Select(e => e.Key).OrderBy(k => k.Name, StringComparer.Ordinal).Select(k => k.ToString()));
        Assert.Equal(total, header.Entries.Sum(e => e.Key.Numel));
        Assert.All(header.Entries, e => Assert.Equal(ScalarType.Float32, e.DType));
        var report = WeightLoader.CheckAgainstKeys(keys, header);
        Assert.True(report.IsMatch, report.Describe());
        Assert.Equal(keys.Count, report.Matched);
    }

    [Fact]
    public void Tiny_sd15_values_equal_TorchSharp_PyBridge_and_survive_a_round_trip()
    {
        var ours = SafetensorsFile.Load(Weights);
        var theirs = TorchSharp.PyBridge.Safetensors.LoadStateDict(Weights);
        Assert.Equal(theirs.Keys.Order(), ours.Keys.Order());
        foreach (var (name, tensor) in theirs) TensorAssert.BitwiseEqual(tensor, ours[name], name);

        var folder = new TempFolder();
        using (folder)
        {
            var copy = folder.File("copy.safetensors");
            SafetensorsFile.Save(copy, ours);
            var again = SafetensorsFile.Load(copy);
            foreach (var (name, tensor) in ours) TensorAssert.BitwiseEqual(tensor, again[name], name);
        }
    }

    [Fact]
    public void Io_fixture_keeps_integer_timesteps_when_floats_are_converted()
    {
        var raw = SafetensorsFile.Load(Io);
        var wide = SafetensorsFile.Load(Io, convertFloatsTo: ScalarType.Float64);

        Assert.Equal(ScalarType.Int64, raw["timestep"].dtype);
        Assert.Equal(ScalarType.Int64, wide["timestep"].dtype);
        Assert.Equal(ScalarType.Float64, wide["sample"].dtype);
        TensorAssert.BitwiseEqual(raw["sample"].to_type(ScalarType.Float64), wide["sample"]);
    }
}
