using System.Text.Json;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Cli;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

public class TrainCommandTests
{
    public TrainCommandTests() => set_num_threads(1);

    [Fact]
    public void TrainsAClassConditionalModelWhoseWeightsAndConditionerLoadStrictly()
    {
        using var temp = new TempFolder();
        var spec = TinyDigits.WriteSpec(temp);
        var data = TinyDigits.WriteData(temp);
        var output = temp.File("teacher");
        var (code, stdout, error) = CliRunner.Run("train", "--spec", spec, "--data", data, "--conditioner", "new:3:2", "--steps", "3", "--batch", "4",
            "--lr", "1e-3", "--output", output, "--threads", "1", "--json", "--log-every", "1");
        Assert.True(code == 0, error);
        Assert.Contains("[train] step 3/3 task", error);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("completed", doc.RootElement.GetProperty("status").GetString());
        Assert.Equal(3, doc.RootElement.GetProperty("step").GetInt32());
        Assert.True(doc.RootElement.GetProperty("final").GetProperty("task").GetDouble() > 0);

        using var scope = NewDisposeScope();
        using var unet = new UNet2DCondition(SpecFiles.LoadLayout(spec));
        Assert.True(WeightLoader.Load(unet, Path.Combine(output, "unet.safetensors"), strict: true).IsMatch);
        using var conditioner = ClassConditioner.Load(Path.Combine(output, "unet.conditioner.safetensors"));
        Assert.Equal(3, conditioner.ClassCount);
        Assert.Equal(3, TrainingLog.Read(Path.Combine(output, TrainingLog.FileName)).Count);
        Assert.Contains("\"beta_schedule\": \"scaled_linear\"", File.ReadAllText(Path.Combine(output, "train.json")));
    }

    [Fact]
    public void BadInputsAndBadOptionValuesExitWithCode2AndNothingIsWritten()
    {
        using var temp = new TempFolder();
        var spec = TinyDigits.WriteSpec(temp);
        var data = TinyDigits.WriteData(temp);
        var output = temp.File("run");
        string[] Args(params string[] extra) => ["train", "--spec", spec, "--data", data, "--steps", "2", "--batch", "2", "--output", output, "--threads", "1", .. extra];

        var (code, _, error) = CliRunner.Run(Args());
        Assert.Equal(2, code);
        Assert.Contains("needs a class conditioner to turn them into states (--conditioner)", error);
        (code, _, error) = CliRunner.Run(Args("--conditioner", "new:3"));
        Assert.Equal(2, code);
        Assert.Contains("--conditioner must be new:CLASSES:TOKENS", error);
        (code, _, error) = CliRunner.Run(Args("--conditioner", "new:3:2", "--lr-schedule", "linear"));
        Assert.Equal(2, code);
        Assert.Contains("expected constant or cosine", error);
        (code, _, error) = CliRunner.Run(Args("--conditioner", "new:3:2", "--resume"));
        Assert.Equal(2, code);
        Assert.Contains("no checkpoint", error);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Any());
    }
}
