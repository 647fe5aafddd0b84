using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>What <c>laptop-diff dataset</c> encodes: a captioned image folder, with a pipeline's VAE and text encoder.</summary>
public sealed record DatasetRequest
{
    public required string ModelDir { get; init; }
    public required string ImagesDir { get; init; }
    /// <summary>The shards' folder; it must not exist yet.</summary>
    public required string OutputDir { get; init; }
    /// <summary>Samples per shard (the last may hold fewer; images skipped make a shard smaller).</summary>
    public int ShardSamples { get; init; } = 1000;
    /// <summary>Shard file stem: <c>NAME-00001-of-0000K.safetensors</c>.</summary>
    public string Name { get; init; } = "data";
    /// <summary>Images per VAE / text-encoder forward.</summary>
    public int Batch { get; init; } = 64;
    /// <summary>Where the VAE and the text encoder run (the shards are written from the CPU: the same files on every device, float rounding aside).</summary>
    public Device Device { get; init; } = CPU;
}

/// <param name="Samples">Images encoded.</param>
/// <param name="Skipped">Images left out (unreadable or not RGB), with the reason.</param>
public sealed record DatasetReport(int Samples, IReadOnlyList<SkippedImage> Skipped, IReadOnlyList<string> Shards);

/// <summary>
/// Encodes a captioned image folder once into a training set in the calibration format (Calibration/README.md):
/// images resized and centre-cropped to the pipeline's size, their VAE latent means scaled as the denoiser sees them,
/// the captions' token ids and the text encoder's last hidden states (what SD-1.5 conditions on), and the empty
/// prompt's states for caption dropout and guidance. Shards <c>NAME-0000k-of-0000K.safetensors</c> carry their
/// captions and file names in the metadata; <c>dataset.json</c> lists what was skipped. The folder is built beside
/// its final place and renamed when complete: a failure leaves nothing.
/// </summary>
public static class DatasetWriter
{
    public const string ReportFile = "dataset.json";

    public static DatasetReport Write(DatasetRequest request, Action<string>? log = null)
    {
        if (request.ShardSamples < 1 || request.Batch < 1)
            throw new ArgumentException($"shard size and batch must be at least 1, got {request.ShardSamples} and {request.Batch}");
        var target = AtomicFolder.RequireNew(request.OutputDir);
        var folder = PipelineFolder.Open(request.ModelDir);
        if (folder.Kind != PipelineKind.StableDiffusion)
            throw new InputException($"'{folder.Directory}' is a {folder.ClassName}; datasets are made from StableDiffusionPipeline folders only, so far");
        var images = ImageFolder.Read(request.ImagesDir, captionsRequired: true);
        int size = PipelineModels.ImageSize(folder);
        var tokenizer = PipelineModels.LoadTokenizer(folder);
        using var vae = ModuleDevice.MoveTo(PipelineModels.LoadVae(folder), request.Device);
        using var encoder = ModuleDevice.MoveTo(PipelineModels.LoadTextEncoder(folder), request.Device);
        log?.Invoke($"{images.Entries.Count} images in {images.Directory} (captions from {images.CaptionSource}) -> {size}x{size} -> " +
                    $"latents [{vae.Config.LatentChannels},{size / vae.Config.DownscaleFactor},{size / vae.Config.DownscaleFactor}] and states of {encoder.Config.HiddenSize}");

        return AtomicFolder.Write(target, temp =>
        {
            var (emptyIds, negative) = Encode(tokenizer, encoder, [""]);
            using var _ = emptyIds;
            using var __ = negative;
            var skipped = new List<SkippedImage>();
            var written = new List<(string TempPath, int Samples)>();
            foreach (var chunk in images.Entries.Chunk(request.ShardSamples))
            {
                using var batch = ImageBatch.Load(chunk, size);
                skipped.AddRange(batch.Skipped);
                if (batch.Kept.Count == 0) continue;
                var path = Path.Combine(temp, $"part-{written.Count:D5}.safetensors");
                WriteShard(path, batch, tokenizer, encoder, vae, negative, request, folder);
                written.Add((path, batch.Kept.Count));
                log?.Invoke($"encoded {written.Sum(w => w.Samples)} of {images.Entries.Count} images{(skipped.Count > 0 ? $" ({skipped.Count} skipped)" : "")}");
            }
            if (written.Count == 0)
                throw new InputException($"image folder '{images.Directory}': no usable image ({ImageBatch.Describe(skipped)})");

            var shards = new List<string>();
            for (int k = 0; k < written.Count; k++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"{request.Name}-{k + 1:D5}-of-{written.Count:D5}.safetensors");
                File.Move(written[k].TempPath, Path.Combine(temp, name));
                shards.Add(name);
            }
            int samples = written.Sum(w => w.Samples);
            var report = new Dictionary<string, object>
            {
                ["model"] = folder.Directory,
                ["images"] = images.Directory,
                ["captions_from"] = images.CaptionSource,
                ["size"] = size,
                ["samples"] = samples,
                ["shards"] = shards,
                ["skipped"] = skipped.Select(s => new { file = s.RelativePath, reason = s.Reason }).ToList(),
            };
            AtomicFile.WriteText(Path.Combine(temp, ReportFile), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            return new DatasetReport(samples, skipped, shards.Select(s => Path.Combine(target, s)).ToList());
        });
    }

    /// <summary>Padded token ids [B,T] (on the CPU) and the text encoder's last hidden states [B,T,D] (on its device) of some prompts (no gradients).</summary>
    public static (Tensor Ids, Tensor States) Encode(ClipTokenizer tokenizer, ClipTextModel encoder, IReadOnlyList<string> prompts)
    {
        using var noGrad = no_grad();
        var ids = tokenizer.EncodeBatch(prompts);
        using var output = encoder.forward(ids);
        return (ids, output.LastHiddenState.clone());
    }

    private static void WriteShard(string path, ImageBatch batch, ClipTokenizer tokenizer, ClipTextModel encoder, AutoencoderKL vae,
        Tensor negative, DatasetRequest request, PipelineFolder folder)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var captions = batch.Kept.Select(e => e.Caption!).ToList();
        var latents = new List<Tensor>();
        var ids = new List<Tensor>();
        var states = new List<Tensor>();
        for (int start = 0; start < captions.Count; start += request.Batch)
        {
            int count = Math.Min(request.Batch, captions.Count - start);
            using var posterior = vae.Encode(batch.Pixels.narrow(0, start, count).to(request.Device));
            latents.Add(vae.ToLatents(posterior, generator: null));                              // [b,L,h,w], scaled
            var (i, s) = Encode(tokenizer, encoder, captions.GetRange(start, count));
            ids.Add(i);
            states.Add(s);
        }
        var metadata = new Dictionary<string, string>
        {
            [CalibrationFormat.FormatKey] = CalibrationFormat.Version,
            [CalibrationFormat.SourceKey] = $"images {Path.GetFullPath(request.ImagesDir)} encoded by the pipeline's VAE (latent means) and text encoder (last hidden state)",
            [CalibrationFormat.ModelKey] = folder.Directory,
            [CalibrationFormat.ToolKey] = "laptop-diff dataset",
            [CalibrationFormat.CaptionsKey] = JsonSerializer.Serialize(captions),
            [CalibrationFormat.FileNamesKey] = JsonSerializer.Serialize(batch.Kept.Select(e => e.RelativePath)),
        };
        SafetensorsFile.Save(path,
        [
            new(CalibrationFormat.Latents, cat(latents)),
            new(CalibrationFormat.EncoderHiddenStates, cat(states)),
            new(CalibrationFormat.InputIds, cat(ids)),
            new(CalibrationFormat.NegativeEncoderHiddenStates, negative),
        ], metadata);
    }
}
