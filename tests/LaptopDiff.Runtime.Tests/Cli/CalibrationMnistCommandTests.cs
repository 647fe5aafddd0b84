using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Specs;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>calibration --mnist</c>: the digits as a labelled training set the trainer loads.</summary>
public sealed class CalibrationMnistCommandTests
{
    private static string Spec(string name) => Path.Combine(TestPaths.RepoRoot, "models", name);
    private static string Mnist => MnistDigits.DefaultPath(TestPaths.RepoRoot);

    [Fact]
    public void Held_out_split_becomes_a_labelled_set_the_calibration_loader_reads()
    {
        using var temp = new TempFolder();
        var output = temp.File("heldout.safetensors");
        var (code, stdout, stderr) = CliRunner.Run("calibration", "--spec", Spec("digits.unet.yaml"), "--mnist", Mnist, "--split", "heldout", "--output", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("1000 heldout digits", stdout);

        using var conditioner = new ClassConditioner(MnistDigits.ClassCount, 1, 32);
        using var set = CalibrationSet.Load(output, SpecFiles.LoadLayout(Spec("digits.unet.yaml")), conditioner);
        Assert.Equal(1000, set.Count);
        Assert.NotNull(set.Labels);
    }

    [Fact]
    public void Wrong_spec_or_split_writes_nothing()
    {
        using var temp = new TempFolder();
        var output = temp.File("x.safetensors");
        Assert.Equal(2, CliRunner.Run("calibration", "--spec", Spec("tiny-sd15.unet.yaml"), "--mnist", Mnist, "--output", output).ExitCode);
        Assert.Equal(2, CliRunner.Run("calibration", "--spec", Spec("digits.unet.yaml"), "--mnist", Mnist, "--split", "test", "--output", output).ExitCode);
        Assert.False(File.Exists(output));
    }
}
