using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>What <c>laptop-diff train-vae</c> runs: an <see cref="AutoencoderKL"/> from its diffusers config, from scratch.</summary>
public sealed record VaeTrainRequest
{
    /// <summary>A diffusers <c>AutoencoderKL</c> config.json; images are trained at its <c>sample_size</c>.</summary>
    public required string ConfigPath { get; init; }
    /// <summary>An image folder (<see cref="ImageFolder"/>; captions are not needed).</summary>
    public required string ImagesDir { get; init; }
    public required TrainingOptions Options { get; init; }
    /// <summary>Weight of the per-value KL term (<see cref="VaeObjective"/>).</summary>
    public double KlWeight { get; init; } = 1e-3;
    public required string OutputDir { get; init; }
    public bool Resume { get; init; }
    /// <summary>Where the VAE and every step run (the CPU by default); images are read on the CPU and moved batch by batch.</summary>
    public Device Device { get; init; } = CPU;
}

/// <summary>
/// Trains a VAE on an image folder with <see cref="VaeObjective"/> and the shared <see cref="Trainer{TBatch}"/> (checkpoints,
/// exact resume, SIGINT, NaN stop). At the end it writes the component folder <c>OUTPUT/vae/</c>: the config with
/// <c>scaling_factor</c> set to 1 / (standard deviation of the training images' latent means, over the first
/// <see cref="ScalingImages"/>), as Stable Diffusion's
/// 0.18215 was chosen, so the denoiser sees unit-variance latents, and the weights (the EMA weights when EMA is on);
/// also OUTPUT/log.jsonl, loss.png and train.json.
/// </summary>
public static class VaeTraining
{
    public const string ComponentFolder = "vae";

    public static TrainingOutcome Run(VaeTrainRequest request, CancellationToken cancel, Action<TrainingProgress>? onStep = null, Action<string>? log = null)
    {
        var options = request.Options.Validate();
        var config = VaeConfigReader.ReadFile(request.ConfigPath);
        var folder = ImageFolder.Read(request.ImagesDir, captionsRequired: false);
        using var images = ImageBatch.Load(folder.Entries, config.SampleSize);
        if (images.Kept.Count == 0)
            throw new InputException($"image folder '{folder.Directory}': no usable image ({ImageBatch.Describe(images.Skipped)})");
        if (images.Skipped.Count > 0) log?.Invoke($"{folder.Directory}: {ImageBatch.Describe(images.Skipped)}");

        using var vae = new AutoencoderKL(config);
        SeededInitialization.Apply(vae, options.Seed);
        ModuleDevice.MoveTo(vae, request.Device);                                   // initialised on the CPU: the same weights on every device
        var identity = new RunIdentity(options.IdentityFields().Concat(new Dictionary<string, string>
        {
            ["kind"] = "train-vae",
            ["config"] = FileDigest.Sha256(request.ConfigPath),
            ["data"] = PixelHash(images.Pixels),
            ["kl_weight"] = request.KlWeight.ToString("R", CultureInfo.InvariantCulture),
        }));
        var objective = new VaeObjective(vae, request.KlWeight);
        var data = new VaeTrainingBatches(images.Pixels, config, options);
        var trainer = new Trainer<VaeBatch>(objective, data, options, identity, request.OutputDir);
        log?.Invoke($"AutoencoderKL: {config.ParamCount():N0} parameters, {config.SampleSize}x{config.SampleSize} -> {config.LatentChannels}x" +
                    $"{config.SampleSize / config.DownscaleFactor}x{config.SampleSize / config.DownscaleFactor}; {images.Kept.Count} images from {folder.Directory}; " +
                    $"{options.Steps} steps of {options.BatchSize}x{options.GradientAccumulation}; KL weight {request.KlWeight}");
        return trainer.Run(request.Resume, cancel, onStep, log, ema =>
        {
            ema?.CopyTo(vae, "vae");
            vae.eval();
            double scaling = ScalingFactor(vae, images.Pixels);
            log?.Invoke($"scaling_factor {scaling:G6} (1 / std of the latent means of the first {Math.Min(images.Kept.Count, ScalingImages)} training images)");
            WriteComponent(request, vae, scaling, identity);
            var logPath = Path.Combine(request.OutputDir, TrainingLog.FileName);
            AtomicFile.Write(Path.Combine(request.OutputDir, LossCurvePlot.FileName),
                s => s.Write(LossCurvePlot.RenderPng(TrainingLog.Read(logPath), [VaeObjective.ReconstructionTerm, VaeObjective.KlTerm])));
            var summary = new Dictionary<string, object>
            {
                ["config"] = Path.GetFullPath(request.ConfigPath),
                ["images"] = folder.Directory,
                ["images_used"] = images.Kept.Count,
                ["images_skipped"] = images.Skipped.Select(s => new { file = s.RelativePath, reason = s.Reason }).ToList(),
                ["scaling_factor"] = scaling,
                ["identity"] = identity.Fields,
            };
            AtomicFile.WriteText(Path.Combine(request.OutputDir, "train.json"),
                JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        });
    }

    /// <summary>Images the scaling factor is measured on: the first ones in folder order (SD measured one batch).</summary>
    public const int ScalingImages = 2048;

    /// <summary>1 / the standard deviation of every latent mean value of the first <see cref="ScalingImages"/> images (SD's convention), encoded on the VAE's device.</summary>
    public static double ScalingFactor(AutoencoderKL vae, Tensor images)
    {
        using var noGrad = no_grad();
        double sum = 0, squares = 0;
        long count = 0, n = Math.Min(images.shape[0], ScalingImages);
        for (long i = 0; i < n; i += 256)
        {
            using var scope = NewDisposeScope();
            using var posterior = vae.Encode(images.narrow(0, i, Math.Min(256, n - i)).to(vae.Device));
            var mean = posterior.Mean.to_type(ScalarType.Float64);
            sum += mean.sum().item<double>();
            squares += mean.square().sum().item<double>();
            count += mean.numel();
        }
        double variance = squares / count - (sum / count) * (sum / count);
        return Math.Round(1.0 / Math.Sqrt(Math.Max(variance, 1e-12)), 6);
    }

    /// <summary>OUTPUT/vae/: the config with the new scaling factor (every other key as given) and the weights.</summary>
    private static void WriteComponent(VaeTrainRequest request, AutoencoderKL vae, double scaling, RunIdentity identity)
    {
        var dir = Path.Combine(request.OutputDir, ComponentFolder);
        Directory.CreateDirectory(dir);
        var config = JsonNode.Parse(File.ReadAllText(request.ConfigPath))!.AsObject();
        config["scaling_factor"] = scaling;
        WeightLoader.Save(vae, Path.Combine(dir, ComponentWeights.DiffusersBaseName + ".safetensors"),
            new Dictionary<string, string> { ["format"] = "pt", ["run"] = identity.ToJson(), ["tool"] = "laptop-diff train-vae" });
        AtomicFile.WriteText(Path.Combine(dir, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static string PixelHash(Tensor pixels)
    {
        using var contiguous = pixels.contiguous();
        return FileDigest.Prefix + Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(contiguous.data<float>().ToArray().AsSpan())));
    }
}
