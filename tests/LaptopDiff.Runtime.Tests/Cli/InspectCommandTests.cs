using System.Text.Json;

namespace LaptopDiff.Runtime.Tests.Cli;

public class InspectCommandTests
{
    [Fact]
    public void JsonListsUnitsAndTheExactTotal()
    {
        var (code, output, error) = CliRunner.Run("inspect", "--spec", Path.Combine(TestPaths.RepoRoot, "models", "sd15.unet.yaml"), "--json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(859_520_964L, root.GetProperty("total_params").GetInt64());
        var units = root.GetProperty("units").EnumerateArray().ToList();
        // SD-1.5: 22 ResNets + 16 transformers
        Assert.Equal(38, units.Count);
        var first = units[0];
        Assert.Equal("down_blocks.0.resnets.0", first.GetProperty("id").GetString());
        Assert.Equal("resnet", first.GetProperty("kind").GetString());
        Assert.Equal("down.0", first.GetProperty("stage").GetString());
        Assert.True(first.GetProperty("prunable").GetBoolean());
        Assert.Equal(2_255_040L, first.GetProperty("params").GetInt64());
        Assert.Contains(units, u => u.GetProperty("id").GetString() == "down_blocks.1.resnets.0" && !u.GetProperty("prunable").GetBoolean());
    }

    [Fact]
    public void TableReadsADiffusersConfigDirectly()
    {
        var (code, output, _) = CliRunner.Run("inspect", "--spec", TestPaths.DiffusersFixture("ssd-1b.config.json"));
        Assert.Equal(0, code);
        Assert.Contains("total parameters: 1,331,334,404", output);
        Assert.Contains("mid_block.resnets.0", output);
    }

    [Fact]
    public void BadSpecIsAnInputErrorWithThePosition()
    {
        using var temp = new TempFolder();
        var spec = temp.File("bad.unet.yaml");
        File.WriteAllText(spec, "name: Bad\nsample_size: 8\ndown:\n  - { type: convolution, channels: 8, layers: 1 }\nmid: { type: none }\nup: []\n");
        var (code, _, error) = CliRunner.Run("inspect", "--spec", spec);
        Assert.Equal(2, code);
        Assert.Contains("bad.unet.yaml(4,13): error LD0002: 'convolution' is not a block type", error);
    }

    [Fact]
    public void MissingOptionIsAUsageError()
    {
        var (code, _, error) = CliRunner.Run("inspect");
        Assert.Equal(1, code);
        Assert.Contains("--spec", error);
    }
}

public class BenchCommandTests
{
    [Fact]
    public void OutOfRangeOptionIsAnInputError()
    {
        var (code, _, error) = CliRunner.Run("bench", "unet", "--spec", Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml"), "--batch", "0");
        Assert.Equal(2, code);
        Assert.Contains("--batch", error);
    }

    [Fact]
    public void UNetBenchmarkReportsPositiveMedians()
    {
        var (code, output, error) = CliRunner.Run("bench", "unet", "--spec", Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml"),
            "--batch", "1", "--runs", "1", "--warmup", "0", "--tokens", "4", "--json");
        Assert.True(code == 0, error);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("forward_ms").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("forward_backward_ms").GetDouble() > 0);
        Assert.Equal(1_106_212L, doc.RootElement.GetProperty("params").GetInt64());
    }
}
