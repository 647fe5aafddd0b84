using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Pipelines;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

/// <summary><c>laptop-diff train --model</c>: the tiny SD-1.5 fixture's U-Net and text encoder trained together from shards.</summary>
public sealed class PipelineTrainingTests
{
    public PipelineTrainingTests() => set_num_threads(1);

    private sealed class Killed : Exception;

    /// <summary>A seeded tiny pipeline (the fixture's VAE) and shards of the three captioned fixture images.</summary>
    private static (string Model, string Data) Prepare(TempFolder temp)
    {
        var model = temp.File("init");
        PipelineInit.Run(new PipelineInitRequest
        {
            StructureDir = TestPaths.SdPipeline(PipelineFixtures.Sd15),
            From = new Dictionary<string, string> { ["vae"] = Path.Combine(TestPaths.SdPipeline(PipelineFixtures.Sd15), "vae") },
            OutputDir = model,
        });
        var data = temp.File("shards");
        DatasetWriter.Write(new DatasetRequest { ModelDir = model, ImagesDir = TextToImageFixtures.WriteImages(temp.File("images")), OutputDir = data, ShardSamples = 2 });
        return (model, data);
    }

    private static PipelineTrainRequest Request(string model, string data, string output, bool textEncoder = true, bool resume = false) => new()
    {
        ModelDir = model, DataPath = data, OutputDir = output, TrainTextEncoder = textEncoder, FillerTokens = textEncoder ? 2 : 0, Resume = resume,
        Options = new TrainingOptions { Steps = 4, BatchSize = 2, LearningRate = 1e-3, EmaDecay = 0.5, ConditioningDropout = 0.3, CheckpointEvery = 2, Seed = 3 },
    };

    [Fact]
    public void The_trained_folder_opens_loads_strictly_and_a_killed_run_resumes_to_the_same_weights()
    {
        using var temp = new TempFolder();
        var (model, data) = Prepare(temp);
        string straight = temp.File("straight"), killed = temp.File("killed");

        PipelineTraining.Run(Request(model, data, straight), CancellationToken.None);
        Assert.Throws<Killed>(() => PipelineTraining.Run(Request(model, data, killed), CancellationToken.None, p => { if (p.Step == 3) throw new Killed(); }));
        var resumed = PipelineTraining.Run(Request(model, data, killed, resume: true), CancellationToken.None);
        Assert.Equal(2, resumed.ResumedFrom);

        var pipeline = Path.Combine(straight, PipelineTraining.PipelineFolderName);
        foreach (var file in new[] { "unet/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(pipeline, file)), File.ReadAllBytes(Path.Combine(killed, PipelineTraining.PipelineFolderName, file)));
        foreach (var file in new[] { "vae/diffusion_pytorch_model.safetensors", "tokenizer/merges.txt", "scheduler/scheduler_config.json", "model_index.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(model, file)), File.ReadAllBytes(Path.Combine(pipeline, file)));

        var folder = PipelineFolder.Open(pipeline);
        using var unet = folder.LoadUNet();
        using var encoder = PipelineModels.LoadTextEncoder(folder);
        using var before = PipelineModels.LoadTextEncoder(PipelineFolder.Open(model));
        var key = "text_model.embeddings.token_embedding.weight";
        var change = (encoder.state_dict()[key] - before.state_dict()[key]).abs().sum(1);          // [vocab]
        // "horse" (4558) is in a caption; 1000 is in none (and no filler drew it): the caption's token learned, the other only
        // decayed (AdamW: lr x weight decay x 4 steps of an N(0,1) row, 1e-3 in L1)
        Assert.True(change[4558].item<float>() > 20 * change[1000].item<float>(),
            $"the caption token's embedding moved {change[4558].item<float>():G3}, an unused one {change[1000].item<float>():G3}");
    }

    [Fact]
    public void Without_the_text_encoder_it_is_copied_and_ids_are_required_to_train_it()
    {
        using var temp = new TempFolder();
        var (model, data) = Prepare(temp);
        var output = temp.File("frozen");
        PipelineTraining.Run(Request(model, data, output, textEncoder: false), CancellationToken.None);
        Assert.Equal(File.ReadAllBytes(Path.Combine(model, "text_encoder/model.safetensors")),
            File.ReadAllBytes(Path.Combine(output, PipelineTraining.PipelineFolderName, "text_encoder/model.safetensors")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(model, "unet/diffusion_pytorch_model.safetensors")),
            File.ReadAllBytes(Path.Combine(output, PipelineTraining.PipelineFolderName, "unet/diffusion_pytorch_model.safetensors")));

        var noIds = temp.File("no-ids.safetensors");
        using (var set = LaptopDiff.Runtime.Calibration.CalibrationSet.Load(data, PipelineFolder.Open(model).BuildUNetLayout()))
            SafetensorsFile.Save(noIds, [new("latents", set.Latents), new("encoder_hidden_states", set.EncoderHiddenStates)]);
        var e = Assert.Throws<InputException>(() => PipelineTraining.Run(Request(model, noIds, temp.File("x")), CancellationToken.None));
        Assert.Contains("has no input_ids", e.Message);
    }
}
