using LaptopDiff.Digits.Evaluation;
using System.Text.Json;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>sample</c> and <c>eval</c> on a tiny digits-shaped U-Net (seeded random weights), and their input errors.</summary>
public sealed class DigitsCommandTests
{
    private const string TinyDigitsYaml = """
        name: TinyDigits
        sample_size: 32
        in_channels: 1
        out_channels: 1
        cross_attention_dim: 8
        norm: { groups: 4 }
        down:
          - { type: plain, channels: 8, layers: 1 }
          - { type: cross_attn, channels: 8, layers: 1, heads: 2 }
        mid: { type: cross_attn, heads: 2 }
        up:
          - { type: cross_attn, channels: 8, layers: 2, heads: 2 }
          - { type: plain, channels: 8, layers: 2 }
        """;

    internal static string Mnist => MnistDigits.DefaultPath(TestPaths.RepoRoot);

    /// <summary>Writes spec, weights (+ conditioner beside them, as train does) and a classifier; returns their paths.</summary>
    internal static (string Spec, string Weights, string Classifier) WriteModel(TempFolder temp, int conditionerDim = 8)
    {
        var spec = temp.File("tiny-digits.unet.yaml");
        File.WriteAllText(spec, TinyDigitsYaml);
        TorchSharp.torch.manual_seed(1);
        using var model = new UNet2DCondition(SpecFiles.LoadLayout(spec));
        var weights = temp.File("unet.safetensors");
        WeightLoader.Save(model, weights);
        using var conditioner = new ClassConditioner(10, 1, conditionerDim);
        conditioner.Save(temp.File("unet.conditioner.safetensors"));
        using var classifier = new DigitClassifier();
        var classifierPath = temp.File("classifier.safetensors");
        classifier.Save(classifierPath, new Dictionary<string, string>());
        return (spec, weights, classifierPath);
    }

    [Fact]
    public void Sample_writes_a_png_grid_and_eval_prints_every_metric_with_its_interval()
    {
        using var temp = new TempFolder();
        var (spec, weights, classifier) = WriteModel(temp);
        var grid = temp.File("grid.png");
        var (code, stdout, stderr) = CliRunner.Run("sample", "--spec", spec, "--weights", weights, "--output", grid, "--per-class", "2", "--steps", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("20 samples", stdout);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(grid)[..4]);

        (code, stdout, stderr) = CliRunner.Run("eval", "--spec", spec, "--weights", weights, "--classifier", classifier, "--mnist", Mnist,
            "--teacher-spec", spec, "--teacher-weights", weights, "--samples-per-class", "2", "--steps", "2", "--mse-samples", "6", "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(20, root.GetProperty("samples").GetInt32());
        double alignment = root.GetProperty("class_alignment").GetProperty("value").GetDouble();
        Assert.InRange(alignment, root.GetProperty("class_alignment").GetProperty("low").GetDouble(), root.GetProperty("class_alignment").GetProperty("high").GetDouble());
        Assert.True(root.GetProperty("frechet_distance").GetProperty("value").GetDouble() > 0);
        Assert.Equal(0, root.GetProperty("teacher_mse").GetProperty("value").GetDouble());   // the model against itself
        Assert.Equal(10, root.GetProperty("class_accuracy").GetArrayLength());
    }

    [Fact]
    public void A_conditioner_of_the_wrong_width_or_a_non_digits_spec_is_an_input_error_and_writes_nothing()
    {
        using var temp = new TempFolder();
        var (spec, weights, _) = WriteModel(temp, conditionerDim: 16);
        var grid = temp.File("grid.png");
        var (code, _, stderr) = CliRunner.Run("sample", "--spec", spec, "--weights", weights, "--output", grid, "--steps", "2");
        Assert.Equal(2, code);
        Assert.Contains("width 16", stderr);
        Assert.False(File.Exists(grid));
        var tinySd = Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml");
        Assert.Equal(2, CliRunner.Run("sample", "--spec", tinySd, "--weights", weights, "--output", grid).ExitCode);
        Assert.Equal(2, CliRunner.Run("sample", "--spec", spec, "--weights", weights, "--output", grid, "--steps", "0").ExitCode);
        Assert.False(File.Exists(grid));
    }
}
