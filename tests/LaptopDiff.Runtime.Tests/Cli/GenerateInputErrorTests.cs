using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Tests.Pipelines;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// Bad input to <c>generate</c>: one clear message each, exit 2 (bad files and values; exit 1 for a command line that
/// is wrong in itself, such as <c>--steps 0</c>), and no output written. A prompt over 77 tokens is no error: it is
/// cut with diffusers' warning.
/// </summary>
public sealed class GenerateInputErrorTests : IDisposable
{
    private readonly Weights.TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Output => _temp.File("out.png");

    private (int Code, string Error) Generate(string model, params string[] extra)
    {
        string[] steps = extra.Contains("--steps") ? [] : ["--steps", "2"];
        string[] seed = extra.Contains("--latents") ? [] : ["--seed", "0"];
        var (code, _, error) = CliRunner.Run(["generate", "--model", model, .. steps, .. seed, "--output", Output, .. extra]);
        return (code, error);
    }

    private string Copy(string fixture) => PipelineFixtures.Copy(_temp, fixture);

    private void AssertInputError((int Code, string Error) result, string message)
    {
        Assert.True(result.Code == 2, result.Error);
        Assert.Contains(message, result.Error);
        Assert.False(File.Exists(Output));
        Assert.Empty(Directory.GetFiles(_temp.Path, "out.png*"));
    }

    [Fact]
    public void A_missing_component_folder()
    {
        var model = Copy(PipelineFixtures.Sd15);
        Directory.Delete(Path.Combine(model, "text_encoder"), recursive: true);
        AssertInputError(Generate(model, "--prompt", "a fox"),
            $"error: component 'text_encoder' (CLIPTextModel) is listed in model_index.json but the folder {Path.Combine(model, "text_encoder")} does not exist.");
    }

    [Fact]
    public void An_unknown_class_in_model_index()
    {
        var model = Copy(PipelineFixtures.Sdxl);
        PipelineFixtures.EditIndex(model, i => i["vae"] = new JsonArray("diffusers", "AutoencoderTiny"));
        AssertInputError(Generate(model, "--prompt", "a fox"),
            "component 'vae' is diffusers AutoencoderTiny, which LaptopDiff does not support there; expected diffusers AutoencoderKL.");
    }

    [Fact]
    public void A_truncated_merges_file()
    {
        var model = Copy(PipelineFixtures.Sd15);
        var merges = Path.Combine(model, "tokenizer", "merges.txt");
        var lines = File.ReadAllLines(merges);
        File.WriteAllLines(merges, lines.Take(lines.Length / 2));
        AssertInputError(Generate(model, "--prompt", "a fox"), $"error: tokenizer merges '{merges}' ends at line {lines.Length / 2}");
    }

    [Fact]
    public void Invalid_utf8_in_a_prompt_file()
    {
        var prompts = _temp.File("prompts.txt");
        File.WriteAllBytes(prompts, [.. "a red fox\nan oil painting of "u8, 0xC3, 0x28, .. " a lighthouse\n"u8]);
        AssertInputError(Generate(PipelineFixtures.Folder(PipelineFixtures.Sd15), "--prompts", prompts),
            $"error: prompt file '{prompts}' line 2 is not valid UTF-8; save the file as UTF-8.");
    }

    [Fact]
    public void A_height_not_a_multiple_of_8()
    {
        AssertInputError(Generate(PipelineFixtures.Folder(PipelineFixtures.Sd15), "--prompt", "a fox", "--height", "100"),
            "error: height 100 is not a positive multiple of 8");
    }

    [Fact]
    public void A_latents_file_without_latents()
    {
        var latents = _temp.File("noise.safetensors");
        SafetensorsFile.Save(latents, [KeyValuePair.Create("noise", zeros(1, 4, 8, 8))]);
        AssertInputError(Generate(PipelineFixtures.Folder(PipelineFixtures.Sd15), "--prompt", "a fox", "--latents", latents),
            $"error: latents file '{latents}' has no tensor 'latents' (it has 'noise').");
    }

    [Fact]
    public void Zero_steps_is_an_input_error()
    {
        var (code, error) = Generate(PipelineFixtures.Folder(PipelineFixtures.Sd15), "--prompt", "a fox", "--steps", "0");
        Assert.Equal(2, code);
        Assert.Contains("error: --steps must be at least 1, got 0", error);
        Assert.False(File.Exists(Output));
    }

    [Fact]
    public void Latents_and_a_seed_together_are_a_usage_error()
    {
        var latents = _temp.File("noise.safetensors");
        SafetensorsFile.Save(latents, [KeyValuePair.Create("latents", zeros(1, 4, 8, 8))]);
        var (code, error) = Generate(PipelineFixtures.Folder(PipelineFixtures.Sd15), "--prompt", "a fox", "--latents", latents, "--seed", "3");
        Assert.Equal(1, code);
        Assert.Contains("error: --latents and --seed exclude each other", error);
        Assert.False(File.Exists(Output));
    }

    [Fact]
    public void A_ten_thousand_character_prompt_is_cut_with_diffusers_warning()
    {
        var prompt = string.Concat(Enumerable.Repeat("a red fox ", 1000));                       // 10,000 characters
        var (code, error) = Generate(PipelineFixtures.Folder(PipelineFixtures.Sd15), "--prompt", prompt);

        Assert.True(code == 0, error);
        Assert.True(File.Exists(Output));
        // 3,000 BPE ids: 75 kept (25 x "a red fox"), the rest decoded as the warning's removed text
        var removed = string.Join(" ", Enumerable.Repeat("a red fox", 975));
        Assert.Contains($"warning: the following part of your input was truncated because CLIP can only handle sequences up to 77 tokens (3002 given, tokenizer): {removed}\n",
            error.Replace("\r\n", "\n"));
    }
}
