using System.Text.Json;
using LaptopDiff.Runtime.Tests.Clip;
using LaptopDiff.Runtime.Tests.Pipelines;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>tokenize</c>, <c>encode-prompt</c>, <c>inspect --model</c> and <c>bench pipeline</c> on the fixture folders.</summary>
public sealed class PipelineCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("tokenizer", 7)]        // CJK
    [InlineData("tokenizer_2", 8)]      // emoji
    [InlineData("tokenizer_2", 9)]      // longer than 77 tokens: truncated, end token kept
    [InlineData("tokenizer", 10)]       // empty
    public void Tokenize_prints_the_fixture_ids(string tokenizer, int prompt)
    {
        var text = ClipFixtures.Prompts("tiny-sdxl-pipe.io.json")[prompt];
        var (code, output, error) = CliRunner.Run("tokenize", "--model", PipelineFixtures.Folder(PipelineFixtures.Sdxl), "--tokenizer", tokenizer, "--prompt", text, "--json");

        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(ClipFixtures.Ids("tiny-sdxl-pipe.io.json", tokenizer)[prompt], json.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal(prompt == 9, error.Contains("warning: the following part of your input was truncated"));
    }

    [Fact]
    public void Tokenize_refuses_a_tokenizer_the_pipeline_has_not()
    {
        var (code, _, error) = CliRunner.Run("tokenize", "--model", PipelineFixtures.Folder(PipelineFixtures.Sd15), "--tokenizer", "tokenizer_2", "--prompt", "a", "--json");
        Assert.Equal(2, code);
        Assert.Contains("--tokenizer 'tokenizer_2' is not a tokenizer of this StableDiffusionPipeline (it has tokenizer)", error);
    }

    [Fact]
    public void Encode_prompt_writes_sdxl_conditioning()
    {
        var output = _temp.File("embeds.safetensors");
        var prompts = ClipFixtures.Prompts("tiny-sdxl-pipe.io.json").Take(3).ToArray();
        var (code, _, error) = CliRunner.Run(["encode-prompt", "--model", PipelineFixtures.Folder(PipelineFixtures.Sdxl),
            .. prompts.SelectMany(p => new[] { "--prompt", p }), "--output", output]);

        Assert.True(code == 0, error);
        var written = SafetensorsFile.Load(output);
        var io = ClipFixtures.Tensors("tiny-sdxl-pipe.io.safetensors");
        using var expected = cat([io["te.penultimate"], io["te2.penultimate"]], -1);
        Assert.Equal(["prompt_embeds", "pooled_prompt_embeds"], written.Keys);
        Assert.InRange(ClipFixtures.RelativeL2(written["prompt_embeds"], expected), 0, 1e-5);
        Assert.InRange(ClipFixtures.RelativeL2(written["pooled_prompt_embeds"], io["te2.text_embeds"]), 0, 1e-5);
    }

    [Fact]
    public void Encode_prompt_writes_sd15_conditioning()
    {
        var output = _temp.File("embeds.safetensors");
        var prompts = ClipFixtures.Prompts("tiny-sd15-pipe.io.json").Take(3).ToArray();
        var (code, _, error) = CliRunner.Run(["encode-prompt", "--model", PipelineFixtures.Folder(PipelineFixtures.Sd15),
            .. prompts.SelectMany(p => new[] { "--prompt", p }), "--output", output]);

        Assert.True(code == 0, error);
        var written = SafetensorsFile.Load(output);
        Assert.Equal(["prompt_embeds"], written.Keys);
        Assert.InRange(ClipFixtures.RelativeL2(written["prompt_embeds"], ClipFixtures.Tensors("tiny-sd15-pipe.io.safetensors")["te.last_hidden_state"]), 0, 1e-5);
    }

    [Theory]
    [InlineData(PipelineFixtures.Sd15Structure, 859_520_964L, 83_653_863L, 123_060_480L, 0L)]
    [InlineData(PipelineFixtures.SdxlStructure, 2_567_463_684L, 83_653_863L, 123_060_480L, 694_659_840L)]
    public void Inspect_model_counts_parameters_of_weightless_folders(string folder, long unet, long vae, long textEncoder, long textEncoder2)
    {
        var (code, output, error) = CliRunner.Run("inspect", "--model", PipelineFixtures.Folder(folder), "--json");

        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var counts = json.RootElement.GetProperty("components").EnumerateArray()
            .Where(c => c.GetProperty("params").ValueKind == JsonValueKind.Number)
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("params").GetInt64());
        Assert.Equal(unet, counts["unet"]);
        Assert.Equal(vae, counts["vae"]);
        Assert.Equal(textEncoder, counts["text_encoder"]);
        Assert.Equal(textEncoder2, counts.GetValueOrDefault("text_encoder_2"));
        Assert.Equal(counts.Values.Sum(), json.RootElement.GetProperty("total_params").GetInt64());
    }

    [Fact]
    public void Inspect_model_prints_a_table_with_classes_and_dtypes()
    {
        var (code, output, error) = CliRunner.Run("inspect", "--model", PipelineFixtures.Folder(PipelineFixtures.Sd15));

        Assert.True(code == 0, error);
        Assert.Contains("transformers CLIPTextModel", output);
        Assert.Contains("(F32 ", output);
        Assert.Contains("not implemented: samples with DDIMScheduler from its config", output);
        Assert.Contains("total parameters: ", output);
    }

    [Fact]
    public void Inspect_needs_one_of_spec_and_model()
    {
        var (code, _, error) = CliRunner.Run("inspect", "--spec", "a.unet.yaml", "--model", PipelineFixtures.Folder(PipelineFixtures.Sd15));
        Assert.Equal(1, code);
        Assert.Contains("inspect needs one of --spec SPEC (a U-Net) or --model DIR (a pipeline folder)", error);
    }

    [Fact]
    public void Bench_pipeline_splits_latency_by_stage_with_guidance_in_one_batch()
    {
        var (code, output, error) = CliRunner.Run("bench", "pipeline", "--model", PipelineFixtures.Folder(PipelineFixtures.Sd15), "--steps", "2", "--batch", "2",
            "--warmup", "0", "--json");

        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(4, root.GetProperty("unet_batch").GetInt32());                  // 2 images x (uncond + cond) in one forward
        double total = root.GetProperty("total_ms").GetDouble();
        double stages = root.GetProperty("text_encoding_ms").GetDouble() + root.GetProperty("denoising_ms").GetDouble() + root.GetProperty("decoding_ms").GetDouble();
        Assert.InRange(stages, 0.5 * total, total);
        Assert.Equal(total / 1000 / 2, root.GetProperty("seconds_per_image").GetDouble(), 6);
    }
}
