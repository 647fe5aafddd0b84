using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Tests.Cli;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

public class ClassConditionerTests
{
    [Fact]
    public void MapsLabelsToTheirTokenRowsAndRoundTripsThroughItsFile()
    {
        using var temp = new TempFolder();
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var c = new ClassConditioner(classCount: 10, tokenCount: 4, dim: 6);
        Assert.Equal(10, c.NullLabel);
        var labels = tensor(new long[] { 2, 10, 2 });
        var states = c.forward(labels);
        Assert.Equal(new long[] { 3, 4, 6 }, states.shape);
        Assert.True(states[0].equal(states[2]).all().item<bool>());
        Assert.False(states[0].equal(states[1]).all().item<bool>());
        var table = c.state_dict()[ClassConditioner.WeightKey];
        Assert.Equal(new long[] { 11, 24 }, table.shape);
        Assert.True(states[1].reshape(24).equal(table[10]).all().item<bool>());       // row classCount = the null label

        var path = temp.File("c.conditioner.safetensors");
        c.Save(path);
        var header = SafetensorsFile.ReadHeader(path);
        Assert.Equal(ClassConditioner.Format, header.Metadata["format"]);
        Assert.Equal("10", header.Metadata["classes"]);
        Assert.Equal("4", header.Metadata["tokens"]);
        Assert.Equal("6", header.Metadata["dim"]);
        using var loaded = ClassConditioner.Load(path);
        Assert.True(loaded.forward(labels).equal(states).all().item<bool>());
    }

    [Fact]
    public void LoadRefusesAFileThatIsNotAConditioner()
    {
        using var temp = new TempFolder();
        var path = temp.File("x.safetensors");
        SafetensorsFile.Save(path, new[] { KeyValuePair.Create(ClassConditioner.WeightKey, zeros(3, 4)) });
        var e = Assert.Throws<WeightsException>(() => ClassConditioner.Load(path));
        Assert.Contains("not a class conditioner", e.Message);
    }
}
