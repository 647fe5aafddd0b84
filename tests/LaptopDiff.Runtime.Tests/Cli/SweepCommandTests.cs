using System.Text.Json;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>calibration</c>, <c>sweep</c> and <c>merge</c> end to end, and their answers to bad input (exit 2, nothing written).</summary>
public sealed class SweepCommandTests
{
    private static readonly string Sd15Spec = Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml");
    private static readonly string SdxlSpec = Path.Combine(TestPaths.RepoRoot, "models", "tiny-sdxl.unet.yaml");
    private static readonly string Sd15Weights = TestPaths.DiffusersFixture("tiny-sd15.safetensors");
    private static readonly string SdxlWeights = TestPaths.DiffusersFixture("tiny-sdxl.safetensors");

    private static string Calibration(TempFolder folder, string spec, string name = "calib.safetensors", int samples = 3)
    {
        var path = folder.File(name);
        var (code, stdout, stderr) = CliRunner.Run("calibration", "--spec", spec, "--synthetic", samples.ToString(), "--tokens", "5", "--sample-size", "8", "--output", path);
        Assert.True(code == 0, stderr);
        Assert.Contains("synthetic samples", stdout);
        return path;
    }

    private static (int Code, string Out, string Error) Sweep(string calibration, string output, params string[] extra) =>
        CliRunner.Run(["sweep", "--spec", Sd15Spec, "--weights", Sd15Weights, "--calibration", calibration, "--output", output, "--kernels", "simd",
            .. extra.Contains("--batch") ? extra : ["--batch", "2", .. extra]]);

    [Fact]
    public void Shards_swept_and_merged_on_the_command_line_equal_one_sweep()
    {
        using var folder = new TempFolder();
        var calibration = Calibration(folder, Sd15Spec);

        var (code, stdout, stderr) = Sweep(calibration, folder.File("whole.json"), "--json");
        Assert.True(code == 0, stderr);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(16, json.RootElement.GetProperty("units").GetInt32());
            Assert.Equal(2, json.RootElement.GetProperty("teacher_forwards").GetInt32());   // 3 samples in batches of 2
            Assert.True(json.RootElement.GetProperty("elapsed_seconds").GetDouble() > 0);
        }
        Assert.Contains("[sweep] 32/32 ablations (100%)", stderr);                          // plain progress: stderr is not a terminal
        Assert.Contains("ETA", stderr);

        foreach (var shard in new[] { "1/2", "2/2" })
        {
            (code, _, stderr) = Sweep(calibration, folder.File($"s{shard[0]}.json"), "--shard", shard);
            Assert.True(code == 0, stderr);
        }
        (code, stdout, stderr) = CliRunner.Run("merge", folder.File("s1.json"), folder.File("s2.json"), "--output", folder.File("merged.json"), "--spec", Sd15Spec);
        Assert.True(code == 0, stderr);
        Assert.Contains("16 units from 2 shard(s)", stdout);
        Assert.Equal(Units(folder.File("whole.json")), Units(folder.File("merged.json")));
    }

    [Fact]
    public void A_calibration_set_for_another_spec_is_an_input_error()
    {
        using var folder = new TempFolder();
        var sdxl = Calibration(folder, SdxlSpec);
        var (code, _, stderr) = Sweep(sdxl, folder.File("c.json"));
        Assert.Equal(2, code);
        Assert.Contains("text_embeds", stderr);
        AssertNothingWritten(folder, "c.json");
    }

    [Fact]
    public void Weights_of_another_spec_are_an_input_error()
    {
        using var folder = new TempFolder();
        var calibration = Calibration(folder, Sd15Spec);
        var (code, _, stderr) = CliRunner.Run("sweep", "--spec", Sd15Spec, "--weights", SdxlWeights, "--calibration", calibration, "--output", folder.File("c.json"));
        Assert.Equal(2, code);
        Assert.Contains("does not match the model", stderr);
        AssertNothingWritten(folder, "c.json");
    }

    [Fact]
    public void A_partial_from_other_settings_is_refused_and_kept()
    {
        using var folder = new TempFolder();
        var calibration = Calibration(folder, Sd15Spec, samples: 1);
        var output = folder.File("c.json");
        var (code, _, stderr) = Sweep(calibration, output);
        Assert.True(code == 0, stderr);
        // what a killed sweep leaves: the record as CRITERION.json.partial and no criterion
        File.Move(SweepFiles.RecordPath(output), SweepFiles.PartialPath(output));
        File.Delete(output);
        var partial = File.ReadAllText(SweepFiles.PartialPath(output));

        (code, _, stderr) = Sweep(calibration, output, "--seed", "1");
        Assert.Equal(2, code);
        Assert.Contains("cannot be resumed", stderr);
        Assert.Contains("seed: 0 vs 1", stderr);
        Assert.False(File.Exists(output));
        Assert.Equal(partial, File.ReadAllText(SweepFiles.PartialPath(output)));
    }

    [Theory]
    [InlineData("--shard", "3/2", "shard number")]
    [InlineData("--shard", "x", "must be k/n")]
    [InlineData("--batch", "0", "--batch must be at least 1")]
    [InlineData("--schedule", "cosine", "unknown beta schedule")]
    [InlineData("--beta-end", "1.5", "betas must be in (0, 1)")]
    public void Bad_option_values_are_input_errors(string option, string value, string message)
    {
        using var folder = new TempFolder();
        var calibration = Calibration(folder, Sd15Spec, samples: 1);
        var (code, _, stderr) = Sweep(calibration, folder.File("c.json"), option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        AssertNothingWritten(folder, "c.json");
    }

    [Fact]
    public void Merge_without_every_shard_is_an_input_error()
    {
        using var folder = new TempFolder();
        var calibration = Calibration(folder, Sd15Spec, samples: 1);
        var (code, _, stderr) = Sweep(calibration, folder.File("s1.json"), "--shard", "1/3");
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("merge", folder.File("s1.json"), "--output", folder.File("c.json"));
        Assert.Equal(2, code);
        Assert.Contains("missing shard(s): 2/3, 3/3", stderr);
        Assert.False(File.Exists(folder.File("c.json")));
    }

    [Fact]
    public void Calibration_needs_synthetic_for_now()
    {
        using var folder = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("calibration", "--spec", Sd15Spec, "--output", folder.File("c.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("--synthetic", stderr);
        Assert.False(File.Exists(folder.File("c.safetensors")));
    }

    private static List<(string, double, double?)> Units(string criterionPath)
    {
        var (file, diagnostics) = CriterionReader.Parse(criterionPath, File.ReadAllText(criterionPath));
        Assert.True(file != null, string.Join("\n", diagnostics.Select(d => d.Message)));
        return file!.Units.Select(u => (u.Id, u.Loss, u.StdErr)).ToList();
    }

    private static void AssertNothingWritten(TempFolder folder, string output)
    {
        Assert.False(File.Exists(folder.File(output)));
        Assert.False(File.Exists(SweepFiles.PartialPath(folder.File(output))));
        Assert.False(File.Exists(SweepFiles.RecordPath(folder.File(output))));
    }
}
