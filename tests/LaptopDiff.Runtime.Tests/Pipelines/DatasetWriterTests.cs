using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary><c>laptop-diff dataset</c>: a captioned image folder encoded by the tiny SD-1.5 fixture into training shards.</summary>
public sealed class DatasetWriterTests
{
    public DatasetWriterTests() => set_num_threads(1);

    [Fact]
    public void Shards_hold_the_vae_latents_and_the_text_encoders_states_ids_and_captions_of_the_readable_rgb_images()
    {
        using var temp = new TempFolder();
        var images = TextToImageFixtures.WriteImages(temp.File("images"));
        var model = TestPaths.SdPipeline(PipelineFixtures.Sd15);
        var output = temp.File("shards");

        var report = DatasetWriter.Write(new DatasetRequest { ModelDir = model, ImagesDir = images, OutputDir = output, ShardSamples = 2, Batch = 2 });

        Assert.Equal(3, report.Samples);
        Assert.Equal([("d.png", ImageDecoder.Grayscale), ("e.png", ImageDecoder.Unreadable)], report.Skipped.Select(s => (s.RelativePath, s.Reason)));
        // chunks [a, b], [c, d], [e]: the last holds no readable image, so two shards
        Assert.Equal(["data-00001-of-00002.safetensors", "data-00002-of-00002.safetensors", DatasetWriter.ReportFile],
            Directory.GetFiles(output).Select(Path.GetFileName).Order());
        Assert.Contains("\"reason\": \"grayscale (not RGB)\"", File.ReadAllText(Path.Combine(output, DatasetWriter.ReportFile)));

        var folder = PipelineFolder.Open(model);
        using var set = CalibrationSet.Load(output, folder.BuildUNetLayout());
        using var reference = new DisposableDictionary(TextToImageFixtures.TextEncoderReference());
        Assert.Equal(TextToImageFixtures.Prompts, set.Captions);
        Assert.True(set.InputIds!.eq(reference["te.input_ids"]).all().item<bool>(), "input_ids differ from the fixture's tokenizer output");
        double error = TextToImageFixtures.RelativeL2(set.EncoderHiddenStates, reference["te.last_hidden_state"]);
        Assert.True(error < 1e-5, $"encoder_hidden_states differ from transformers' last_hidden_state by {error:G3} (relative L2)");

        using var vae = PipelineModels.LoadVae(folder);
        using var encoder = PipelineModels.LoadTextEncoder(folder);
        using var batch = ImageBatch.Load(ImageFolder.Read(images, captionsRequired: true).Entries.Take(3).ToList(), 64);
        using var posterior = vae.Encode(batch.Pixels);
        using var latents = vae.ToLatents(posterior, generator: null);
        Assert.True((set.Latents - latents).abs().max().item<float>() < 1e-5f, "latents are not the scaled VAE means of the images");
        var (emptyIds, emptyStates) = DatasetWriter.Encode(PipelineModels.LoadTokenizer(folder), encoder, [""]);
        Assert.True(set.NegativeEncoderHiddenStates!.eq(emptyStates).all().item<bool>());
        emptyIds.Dispose();
        emptyStates.Dispose();
    }

    [Fact]
    public void Missing_captions_or_an_existing_output_are_errors_that_write_nothing()
    {
        using var temp = new TempFolder();
        var images = TextToImageFixtures.WriteImages(temp.File("images"), captionAll: false);
        var request = new DatasetRequest { ModelDir = TestPaths.SdPipeline(PipelineFixtures.Sd15), ImagesDir = images, OutputDir = temp.File("shards") };

        var e = Assert.Throws<InputException>(() => DatasetWriter.Write(request));
        Assert.Contains("1 of 5 images have no caption (c.png)", e.Message);
        Assert.Equal(["images"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));

        Directory.CreateDirectory(temp.File("taken"));
        Assert.Contains("already exists", Assert.Throws<InputException>(() => DatasetWriter.Write(request with { OutputDir = temp.File("taken") })).Message);
    }

    private sealed class DisposableDictionary(Dictionary<string, Tensor> tensors) : IDisposable
    {
        public Tensor this[string key] => tensors[key];
        public void Dispose() { foreach (var t in tensors.Values) t.Dispose(); }
    }
}
