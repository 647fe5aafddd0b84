using System.Text.Json;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>prune --preset</c>: the handcrafted baselines written as pruned specs (and student weights) like the knapsack's.</summary>
public class PrunePresetCommandTests
{
    private static string Model(string file) => Path.Combine(TestPaths.RepoRoot, "models", file);

    [Theory]
    [InlineData("bk-sdm-base", "sd15.unet.yaml", 579_384_964L)]
    [InlineData("bk-sdm-small", "sd15.unet.yaml", 482_346_884L)]
    [InlineData("ssd-1b", "sdxl.unet.yaml", 1_331_334_404L)]
    public void PresetOnTheRealSpecsGivesThePublishedSizes(string preset, string spec, long expected)
    {
        using var temp = new TempFolder();
        var output = temp.File("p.unet.yaml");
        var (code, stdout, error) = CliRunner.Run("prune", "--preset", preset, "--spec", Model(spec), "--output", output, "--json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(preset, root.GetProperty("preset").GetString());
        Assert.Equal(expected, root.GetProperty("remaining_params").GetInt64());
        long total = root.GetProperty("total_params").GetInt64();
        Assert.Equal(total - expected, root.GetProperty("removed_params").GetInt64());
        Assert.Equal((double)(total - expected) / total, root.GetProperty("ratio").GetDouble(), 12);

        var pruned = SpecFiles.LoadLayout(output);   // 'base:' is relative to the output's folder
        Assert.Equal(expected, pruned.TotalParamCount);
        Assert.Equal("preset " + preset, pruned.Spec.Provenance!.Method);
        Assert.Contains($"base: {Path.GetRelativePath(temp.Path, Model(spec)).Replace('\\', '/')}", File.ReadAllText(output));
    }

    [Fact]
    public void StudentOfAPresetLoadsStrictlyAndEqualsTheTeachersMaskedForward()
    {
        using var temp = new TempFolder();
        var spec = temp.File("tiny-sd15.unet.yaml");
        File.Copy(Model("tiny-sd15.unet.yaml"), spec);
        var student = temp.File("student.safetensors");
        var (code, stdout, error) = CliRunner.Run("prune", "--preset", "bk-sdm-small", "--spec", spec,
            "--weights", TestPaths.DiffusersFixture("tiny-sd15.safetensors"), "--student-weights", student);
        Assert.True(code == 0, error);
        var output = temp.File("tiny-sd15.bk-sdm-small.unet.yaml");   // default: beside the spec
        Assert.Contains($"wrote {output}: TinySd15UNetBkSdmSmall", stdout);

        var pruned = SpecFiles.LoadLayout(output);
        using var scope = NewDisposeScope();
        using var model = new UNet2DCondition(pruned);
        Assert.True(WeightLoader.Load(model, student, strict: true).IsMatch);
        model.eval();
        using var teacher = TinyUNets.Load("tiny-sd15");
        var inputs = TinyUNets.Inputs("tiny-sd15");
        using var mode = inference_mode();
        Close.Same(model.Forward(inputs).Sample, teacher.Forward(inputs, teacher.Plan.Mask(pruned.Removed.ToArray())).Sample, "bk-sdm-small student vs masked teacher");
    }

    [Fact]
    public void Ssd1bStudentHasNoMidAttentionAndLoadsStrictly()
    {
        using var temp = new TempFolder();
        var spec = temp.File("tiny-sdxl.unet.yaml");
        File.Copy(Model("tiny-sdxl.unet.yaml"), spec);
        var output = temp.File("ssd.unet.yaml");
        var student = temp.File("ssd.safetensors");
        var (code, _, error) = CliRunner.Run("prune", "--preset", "ssd-1b", "--spec", spec, "--output", output,
            "--weights", TestPaths.DiffusersFixture("tiny-sdxl.safetensors"), "--student-weights", student);
        Assert.True(code == 0, error);
        Assert.Contains("mid: { type: resnet }", File.ReadAllText(output));
        var pruned = SpecFiles.LoadLayout(output);
        Assert.Equal(MidKind.Resnet, pruned.Spec.Mid.Kind);
        using var scope = NewDisposeScope();
        using var model = new UNet2DCondition(pruned);
        Assert.True(WeightLoader.Load(model, student, strict: true).IsMatch);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("mid_block.attentions", StringComparison.Ordinal) || k.StartsWith("mid_block.resnets.1", StringComparison.Ordinal));
        model.eval();
        using var mode = inference_mode();
        var output16 = model.Forward(TinyUNets.Inputs("tiny-sdxl")).Sample;
        Assert.True(output16.isfinite().all().item<bool>());
    }

    [Fact]
    public void PresetThatDoesNotFitTheSpecIsAnInputErrorAndWritesNothing()
    {
        using var temp = new TempFolder();
        var output = temp.File("x.unet.yaml");
        var (code, _, error) = CliRunner.Run("prune", "--preset", "ssd-1b", "--spec", Model("tiny-sd15.unet.yaml"), "--output", output);
        Assert.Equal(2, code);
        Assert.Contains("preset ssd-1b does not apply", error);
        Assert.Contains("granularity transformer", error);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("--preset", "bk-sdm-base", "--criterion", "c.json")]
    [InlineData("--preset", "bk-sdm-base", "--ratio", "0.3")]
    [InlineData("--preset", "bk-sdm-huge")]
    [InlineData("--ratio", "0.3")]
    public void PresetAndKnapsackOptionsDoNotMix(params string[] args)
    {
        var (code, _, _) = CliRunner.Run(new[] { "prune", "--spec", Model("tiny-sd15.unet.yaml"), "--output", Path.Combine(Path.GetTempPath(), "never.unet.yaml") }.Concat(args).ToArray());
        Assert.Equal(1, code);
    }
}
