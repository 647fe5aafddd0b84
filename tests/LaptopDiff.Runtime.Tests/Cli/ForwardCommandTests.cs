using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

public class ForwardCommandTests
{
    [Theory]
    [InlineData("tiny-sd15")]
    [InlineData("tiny-sdxl")]
    public void MatchesDiffusersOnTheFixture(string name)
    {
        using var temp = new TempFolder();
        var output = temp.File("out.safetensors");
        var (code, _, error) = CliRunner.Run("forward", "--spec", TestPaths.DiffusersFixture($"{name}.config.json"),
            "--weights", TestPaths.DiffusersFixture($"{name}.safetensors"), "--inputs", TestPaths.DiffusersFixture($"{name}.io.safetensors"),
            "--output", output);
        Assert.True(code == 0, error);

        var result = SafetensorsFile.Load(output);
        var reference = SafetensorsFile.Load(TestPaths.DiffusersFixture($"{name}.io.safetensors"))["out"];
        var out_ = Assert.Single(result).Value;
        Assert.Equal(ScalarType.Float32, out_.dtype);
        double relative = (out_ - reference).norm().item<float>() / reference.norm().item<float>();
        Assert.True(relative <= 1e-5, $"relative L2 error {relative:E2}");
    }

    [Fact]
    public void TruncatedWeightsAreAnInputErrorAndLeaveNoOutput()
    {
        using var temp = new TempFolder();
        var weights = temp.File("w.safetensors");
        var bytes = File.ReadAllBytes(TestPaths.DiffusersFixture("tiny-sd15.safetensors"));
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var output = temp.File("out.safetensors");

        var (code, _, error) = RunTiny(weights, TestPaths.DiffusersFixture("tiny-sd15.io.safetensors"), output);
        Assert.Equal(2, code);
        Assert.Contains("w.safetensors", error);
        Assert.False(File.Exists(output));
        Assert.Equal(new[] { weights }, Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void HeaderThatLiesAboutSizesIsAnInputError()
    {
        using var temp = new TempFolder();
        var bytes = File.ReadAllBytes(TestPaths.DiffusersFixture("tiny-sd15.safetensors"));
        int headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, headerLength);
        // claim conv_in.bias is 64 floats (it holds 32): same header length, sizes no longer add up
        var lying = header.Replace("\"conv_in.bias\":{\"dtype\":\"F32\",\"shape\":[32]", "\"conv_in.bias\":{\"dtype\":\"F32\",\"shape\":[64]");
        Assert.NotEqual(header, lying);
        System.Text.Encoding.UTF8.GetBytes(lying).CopyTo(bytes, 8);
        var weights = temp.File("w.safetensors");
        File.WriteAllBytes(weights, bytes);

        var (code, _, error) = RunTiny(weights, TestPaths.DiffusersFixture("tiny-sd15.io.safetensors"), temp.File("out.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("conv_in.bias", error);
        Assert.False(File.Exists(temp.File("out.safetensors")));
    }

    [Fact]
    public void MisshapedAndMissingKeysAreListed()
    {
        using var temp = new TempFolder();
        var state = SafetensorsFile.Load(TestPaths.DiffusersFixture("tiny-sd15.safetensors"));
        state.Remove("conv_out.bias");
        state["conv_in.weight"] = zeros(32, 4, 5, 5);
        state["extra.weight"] = zeros(3);
        var weights = temp.File("w.safetensors");
        SafetensorsFile.Save(weights, state);

        var (code, _, error) = RunTiny(weights, TestPaths.DiffusersFixture("tiny-sd15.io.safetensors"), temp.File("out.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("conv_out.bias", error);
        Assert.Contains("extra.weight", error);
        Assert.Contains("conv_in.weight", error);
        Assert.False(File.Exists(temp.File("out.safetensors")));
    }

    [Fact]
    public void InputsOfTheWrongShapeNameTheTensor()
    {
        using var temp = new TempFolder();
        var inputs = SafetensorsFile.Load(TestPaths.DiffusersFixture("tiny-sd15.io.safetensors"));
        inputs["encoder_hidden_states"] = randn(2, 7, 16);
        var path = temp.File("in.safetensors");
        SafetensorsFile.Save(path, inputs);

        var (code, _, error) = RunTiny(TestPaths.DiffusersFixture("tiny-sd15.safetensors"), path, temp.File("out.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("'encoder_hidden_states' must be [2,T,32]", error);
        Assert.False(File.Exists(temp.File("out.safetensors")));
    }

    private static (int, string, string) RunTiny(string weights, string inputs, string output) =>
        CliRunner.Run("forward", "--spec", Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml"),
            "--weights", weights, "--inputs", inputs, "--output", output);
}
