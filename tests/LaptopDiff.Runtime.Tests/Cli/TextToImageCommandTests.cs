using System.Text.Json;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Pipelines;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>The text-to-image training verbs end to end on the tiny SD-1.5 fixture: init-pipeline, dataset, train --model; their usage errors.</summary>
public sealed class TextToImageCommandTests
{
    public TextToImageCommandTests() => set_num_threads(1);

    private static string Fixture => TestPaths.SdPipeline(PipelineFixtures.Sd15);

    [Fact]
    public void Init_dataset_and_train_make_a_pipeline_folder_that_opens()
    {
        using var temp = new TempFolder();
        var init = temp.File("init");
        var (code, _, error) = CliRunner.Run("init-pipeline", "--structure", Fixture, "--from", $"vae={Path.Combine(Fixture, "vae")}", "--seed", "4", "--output", init);
        Assert.True(code == 0, error);
        Assert.Contains("unet: 792,964 parameters, seeded fresh weights", error);      // the fixture's U-Net

        var shards = temp.File("shards");
        (code, var stdout, error) = CliRunner.Run("dataset", "--model", init, "--images", TextToImageFixtures.WriteImages(temp.File("images")), "--output", shards, "--threads", "1", "--json");
        Assert.True(code == 0, error);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(3, doc.RootElement.GetProperty("samples").GetInt32());
            Assert.Equal(2, doc.RootElement.GetProperty("skipped").GetArrayLength());
        }

        var run = temp.File("run");
        (code, stdout, error) = CliRunner.Run("train", "--model", init, "--data", shards, "--train-text-encoder", "--filler-tokens", "2",
            "--steps", "2", "--batch", "2", "--output", run, "--threads", "1", "--json");
        Assert.True(code == 0, error);
        using (var doc = JsonDocument.Parse(stdout))
            Assert.Equal(Path.Combine(run, "pipeline"), doc.RootElement.GetProperty("weights").GetString());
        using var unet = PipelineFolder.Open(Path.Combine(run, "pipeline")).LoadUNet();
        Assert.Contains("\"train_text_encoder\": \"yes\"", File.ReadAllText(Path.Combine(run, "train.json")));

        // the text encoder alone: the U-Net keeps its initial values, the text encoder trains
        var textRun = temp.File("text");
        (code, _, error) = CliRunner.Run("train", "--model", init, "--data", shards, "--text-encoder-only", "--filler-tokens", "1",
            "--steps", "2", "--batch", "3", "--lr", "1e-2", "--output", textRun, "--threads", "1");
        Assert.True(code == 0, error);
        Assert.Contains("nearest digit centroid", error);
        var trained = Path.Combine(textRun, "pipeline");
        using (var before = PipelineFolder.Open(init).LoadUNet())
        using (var after = PipelineFolder.Open(trained).LoadUNet())
            Assert.All(before.state_dict(), kv => Assert.True(kv.Value.allclose(after.state_dict()[kv.Key], 0, 0), kv.Key));
        using (var before = PipelineModels.LoadTextEncoder(PipelineFolder.Open(init)))
        using (var after = PipelineModels.LoadTextEncoder(PipelineFolder.Open(trained)))
            Assert.False(before.state_dict()["text_model.final_layer_norm.weight"].allclose(after.state_dict()["text_model.final_layer_norm.weight"], 0, 0));
        Assert.Contains("\"train_text_encoder\": \"only\"", File.ReadAllText(Path.Combine(textRun, "train.json")));
        Assert.Equal(1, CliRunner.Run("train", "--model", init, "--data", shards, "--caption-loss", "latent", "--steps", "1", "--output", temp.File("x")).ExitCode);
        Assert.Equal(2, CliRunner.Run("train", "--model", init, "--data", shards, "--text-encoder-only", "--caption-loss", "clip", "--steps", "1", "--output", temp.File("x")).ExitCode);
    }

    [Fact]
    public void Conflicting_options_are_usage_errors_and_missing_captions_an_input_error()
    {
        using var temp = new TempFolder();
        string[] Train(params string[] extra) => ["train", "--data", temp.File("d"), "--steps", "1", "--output", temp.File("o"), .. extra];
        var (scheduleCode, _, scheduleError) = CliRunner.Run(Train("--model", Fixture, "--beta-end", "0.02"));
        Assert.Equal(1, scheduleCode);
        Assert.Contains("error: --model takes the noise schedule from the folder's scheduler config; drop --schedule, --beta-start, --beta-end and --train-steps", scheduleError);
        Assert.Equal(1, CliRunner.Run(Train("--model", Fixture, "--filler-tokens", "2")).ExitCode);
        Assert.Equal(1, CliRunner.Run(Train("--model", Fixture, "--spec", "x.yaml")).ExitCode);
        Assert.Equal(1, CliRunner.Run(Train("--spec", "x.yaml", "--train-text-encoder")).ExitCode);
        Assert.Equal(1, CliRunner.Run(Train()).ExitCode);
        Assert.Equal(2, CliRunner.Run("init-pipeline", "--structure", Fixture, "--from", "vae", "--output", temp.File("i")).ExitCode);

        var (code, _, error) = CliRunner.Run("dataset", "--model", Fixture, "--images", TextToImageFixtures.WriteImages(temp.File("images"), captionAll: false), "--output", temp.File("s"));
        Assert.Equal(2, code);
        Assert.Contains("1 of 5 images have no caption (c.png)", error);
        Assert.False(Directory.Exists(temp.File("s")));
    }
}
