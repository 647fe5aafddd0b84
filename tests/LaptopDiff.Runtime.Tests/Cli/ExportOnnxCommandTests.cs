using System.Text.Json;
using LaptopDiff.Cli;
using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Tests.Onnx;
using LaptopDiff.Runtime.Tests.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>export-onnx</c> and <c>bench unet --runtime</c> as a user runs them: exit codes, messages, what is written.</summary>
public sealed class ExportOnnxCommandTests
{
    private static readonly string TinySpec = Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml");
    private static readonly string TinyWeights = TestPaths.DiffusersFixture("tiny-sd15.safetensors");

    [Fact]
    public void Spec_and_weights_export_a_file_that_onnx_runtime_runs_as_the_fixture()
    {
        using var temp = new TempFolder();
        var path = temp.File("tiny.onnx");
        var (code, stdout, error) = CliRunner.Run("export-onnx", "--spec", TinySpec, "--weights", TinyWeights, "--output", path, "--json");
        Assert.True(code == ExitCodes.Ok, error);
        using var json = JsonDocument.Parse(stdout);
        var model = json.RootElement.GetProperty("models").EnumerateArray().Single();
        Assert.Equal("unet", model.GetProperty("component").GetString());
        Assert.Equal(path, model.GetProperty("path").GetString());
        Assert.Equal(17, model.GetProperty("opset").GetInt32());
        Assert.Equal(1_106_212L, model.GetProperty("params").GetInt64());
        Assert.Empty(OnnxModelCheck.Check(path));

        using var scope = NewDisposeScope();
        using var result = OnnxTestKit.Run(path, TinyUNets.Inputs(TinyUNets.Sd15));
        Assert.True(Close.Errors(result.Sample, TinyUNets.Io(TinyUNets.Sd15)["out"]).RelL2 <= OnnxTestKit.RelL2);
    }

    [Fact]
    public void An_opset_below_the_graphs_needs_is_exit_2_naming_the_operator_and_the_flag_with_nothing_written()
    {
        using var temp = new TempFolder();
        var path = temp.File("tiny.onnx");
        var (code, _, error) = CliRunner.Run("export-onnx", "--spec", TinySpec, "--weights", TinyWeights, "--output", path, "--opset", "12");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("opset 12 is below what U-Net TinySd15UNet needs: LayerNormalization needs opset 17", error);
        Assert.Contains("(--opset)", error);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void Weights_of_another_model_are_exit_2_with_nothing_written()
    {
        using var temp = new TempFolder();
        var path = temp.File("tiny.onnx");
        var (code, _, error) = CliRunner.Run("export-onnx", "--spec", TinySpec, "--weights", TestPaths.DiffusersFixture("tiny-sdxl.safetensors"), "--output", path);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("missing", error);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Theory]
    [InlineData("--weights", "w.safetensors")]                               // neither --spec nor --model
    [InlineData("--spec", "s.yaml")]                                         // --spec without --weights
    [InlineData("--model", "m", "--spec", "s.yaml", "--weights", "w")]       // both
    [InlineData("--spec", "s.yaml", "--weights", "w", "--student-spec", "x")] // a student without a pipeline
    public void Inconsistent_sources_are_usage_errors(params string[] args)
    {
        var (code, _, error) = CliRunner.Run(["export-onnx", .. args, "--output", "out.onnx"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("error: ", error);
    }

    [Fact]
    public void A_pipeline_folder_exports_to_the_onnx_pipeline_layout()
    {
        using var temp = new TempFolder();
        var target = temp.File("pipe-onnx");
        var (code, stdout, error) = CliRunner.Run("export-onnx", "--model", PipelineFolderPath, "--output", target);
        Assert.True(code == ExitCodes.Ok, error);
        foreach (var component in new[] { "unet", "text_encoder", "vae_decoder", "vae_encoder" })
        {
            Assert.True(File.Exists(Path.Combine(target, component, "model.onnx")), component);
            Assert.Contains($"wrote {Path.Combine(target, component, "model.onnx")}", stdout);
        }
    }

    [Fact]
    public void Bench_compares_both_runtimes_in_one_run()
    {
        var (code, stdout, error) = CliRunner.Run("bench", "unet", "--spec", TinySpec, "--batch", "2", "--runs", "1", "--warmup", "0", "--tokens", "4",
            "--threads", "1", "--runtime", "both", "--json");
        Assert.True(code == ExitCodes.Ok, error);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.True(root.GetProperty("forward_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("onnx_forward_ms").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("forward_backward_ms").ValueKind);
        Assert.True(root.GetProperty("onnx_vs_torch_rel_l2").GetDouble() < 1e-5, "both runtimes ran the same weights");
        Assert.True(root.GetProperty("onnx_speedup").GetDouble() > 0);
    }

    [Fact]
    public void Bench_runs_a_given_exported_file_and_refuses_it_without_onnx_runtime()
    {
        using var temp = new TempFolder();
        var path = temp.File("tiny.onnx");
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("export-onnx", "--spec", TinySpec, "--weights", TinyWeights, "--output", path).ExitCode);
        var (code, stdout, error) = CliRunner.Run("bench", "unet", "--spec", TinySpec, "--runs", "1", "--warmup", "0", "--tokens", "4",
            "--runtime", "onnx", "--onnx", path, "--json");
        Assert.True(code == ExitCodes.Ok, error);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(path, json.RootElement.GetProperty("onnx_model").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("forward_ms").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("onnx_vs_torch_rel_l2").ValueKind);   // other weights than the benchmark's

        var refused = CliRunner.Run("bench", "unet", "--spec", TinySpec, "--onnx", path);
        Assert.Equal(ExitCodes.Usage, refused.ExitCode);
        Assert.Contains("--onnx needs --runtime onnx or both", refused.Error);
    }

    private static string PipelineFolderPath => TestPaths.SdPipeline("tiny-sd15-pipe");
}
