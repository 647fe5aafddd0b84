using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Tests.Images;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Vae;

/// <summary><c>laptop-diff train-vae</c> on a tiny config: the loss, the written component, the scaling factor, exact resume.</summary>
public sealed class VaeTrainingRunTests
{
    public VaeTrainingRunTests() => set_num_threads(1);

    private sealed class Killed : Exception;

    /// <summary>8x8 RGB -> 4x4x4 latents, two stages of 8 and 16 channels.</summary>
    internal static string WriteConfig(string path)
    {
        File.WriteAllText(path, """
            {"_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3, "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
             "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "block_out_channels": [8, 16], "layers_per_block": 1, "latent_channels": 4,
             "norm_num_groups": 4, "sample_size": 8, "scaling_factor": 0.18215, "force_upcast": false, "extra_key_kept": "yes"}
            """);
        return path;
    }

    internal static string WriteImages(string dir)
    {
        var entries = Enumerable.Range(0, 6).Select(i =>
        {
            var rgb = TestImages.Rgb(8, 8).Select(v => (byte)((v + 37 * i) % 256)).ToArray();
            return new CaptionedImage($"{i}.png", rgb, 8, 8, "unused");
        });
        ImageFolderWriter.Write(dir, entries);
        TestImages.WriteGarbage(Path.Combine(dir, "zz-broken.png"));
        return dir;
    }

    private static VaeTrainRequest Request(string config, string images, string output, bool resume = false) => new()
    {
        ConfigPath = config, ImagesDir = images, OutputDir = output, Resume = resume, KlWeight = 0.01,
        Options = new TrainingOptions { Steps = 6, BatchSize = 2, LearningRate = 5e-3, CheckpointEvery = 2, EmaDecay = 0.5, Seed = 2 },
    };

    [Fact]
    public void The_loss_is_the_reconstruction_mse_plus_the_weighted_kl_per_pixel_value()
    {
        using var temp = new TempFolder();
        var config = VaeConfigReader.ReadFile(WriteConfig(temp.File("vae.json")));
        using var vae = new AutoencoderKL(config);
        SeededInitialization.Apply(vae, 1);
        using var images = rand(3, 3, 8, 8, generator: new Generator(4)) * 2 - 1;
        using var noise = randn(3, 4, 4, 4, generator: new Generator(5));
        using var batch = new VaeBatch { Images = images.alias(), PosteriorNoise = noise.alias() };

        using var loss = new VaeObjective(vae, klWeight: 0.25).Loss(batch);

        using var noGrad = no_grad();
        using var posterior = vae.Encode(images);
        var mu = posterior.Mean;
        var logVar = posterior.LogVar;
        double recon = (vae.Decode(mu + (logVar / 2).exp() * noise) - images).square().mean().item<float>();
        // KL(N(mu, s^2) || N(0, 1)) = (mu^2 + s^2 - 1 - log s^2) / 2, summed per image, per pixel value (3 x 8 x 8), averaged
        double kl = ((mu.square() + logVar.exp() - 1 - logVar).sum([1, 2, 3]) / 2).mean().item<float>() / 192;
        Assert.Equal(recon, loss.Terms.Single(t => t.Key == VaeObjective.ReconstructionTerm).Value, 5);
        Assert.Equal(kl, loss.Terms.Single(t => t.Key == VaeObjective.KlTerm).Value, 5);
        Assert.Equal(recon + 0.25 * kl, loss.Total.item<float>(), 5);
    }

    [Fact]
    public void The_written_vae_loads_strictly_carries_its_scaling_factor_and_a_killed_run_resumes_exactly()
    {
        using var temp = new TempFolder();
        var config = WriteConfig(temp.File("vae.json"));
        var images = WriteImages(temp.File("images"));
        string straight = temp.File("straight"), killed = temp.File("killed");

        VaeTraining.Run(Request(config, images, straight), CancellationToken.None);
        Assert.Throws<Killed>(() => VaeTraining.Run(Request(config, images, killed), CancellationToken.None, p => { if (p.Step == 3) throw new Killed(); }));
        VaeTraining.Run(Request(config, images, killed, resume: true), CancellationToken.None);

        var weights = Path.Combine(straight, VaeTraining.ComponentFolder, ComponentWeights.DiffusersBaseName + ".safetensors");
        Assert.Equal(File.ReadAllBytes(weights), File.ReadAllBytes(Path.Combine(killed, VaeTraining.ComponentFolder, ComponentWeights.DiffusersBaseName + ".safetensors")));
        var written = Path.Combine(straight, VaeTraining.ComponentFolder, "config.json");
        using var vae = AutoencoderKL.Load(written, weights);
        var json = JsonNode.Parse(File.ReadAllText(written))!.AsObject();
        Assert.Equal("yes", (string?)json["extra_key_kept"]);

        // 1 / std of the latent means of the six readable images (the broken file is skipped)
        using var batch = ImageBatch.Load(ImageFolder.Read(images, captionsRequired: false).Entries, 8);
        Assert.Equal(6, batch.Kept.Count);
        using var noGrad = no_grad();
        using var posterior = vae.Encode(batch.Pixels);
        double std = posterior.Mean.to_type(ScalarType.Float64).std(unbiased: false).item<double>();
        Assert.Equal(1 / std, (double)json["scaling_factor"]!, 4);
        Assert.Contains("zz-broken.png", File.ReadAllText(Path.Combine(straight, "train.json")));
    }
}
