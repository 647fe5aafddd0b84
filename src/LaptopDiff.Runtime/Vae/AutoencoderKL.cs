using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// diffusers' <c>AutoencoderKL</c> (the Stable Diffusion VAE) with its state-dict keys: <c>encoder.*</c>,
/// <c>quant_conv</c>, <c>post_quant_conv</c> (each only when the config uses it), <c>decoder.*</c>. Runs in float32
/// whatever the config's <see cref="VaeConfig.ForceUpcast"/> says. Images are in [-1, 1]; raw latents are what the
/// encoder's distribution produces, scaled latents what the denoiser sees (<see cref="ToLatents"/>, <see cref="DecodeScaled"/>).
/// </summary>
public sealed class AutoencoderKL : nn.Module<Tensor, Tensor>
{
    private readonly VaeEncoder encoder;
    private readonly VaeDecoder decoder;
    private readonly Conv2d? quant_conv;
    private readonly Conv2d? post_quant_conv;

    public AutoencoderKL(VaeConfig config) : base(nameof(AutoencoderKL))
    {
        Config = config;
        encoder = new VaeEncoder(config);
        decoder = new VaeDecoder(config);
        int latent = config.LatentChannels;
        if (config.UseQuantConv) quant_conv = nn.Conv2d(2 * latent, 2 * latent, 1);
        if (config.UsePostQuantConv) post_quant_conv = nn.Conv2d(latent, latent, 1);
        RegisterComponents();
    }

    public VaeConfig Config { get; }

    /// <summary>Where the weights live: images to encode and latents to decode go there.</summary>
    public Device Device => ModuleDevice.Of(this);

    /// <summary>
    /// Encode and decode one image at a time (diffusers' <c>enable_slicing</c>): the same values, with the peak memory
    /// of a single image plus the outputs. Worth it for large images in batches (e.g. SDXL at 1024x1024).
    /// </summary>
    public bool SliceBatch { get; set; }

    /// <summary>A VAE built from a diffusers <c>vae/config.json</c> with every tensor of <paramref name="weightsPath"/> (strict).</summary>
    public static AutoencoderKL Load(string configPath, string weightsPath) => Load(configPath, SafetensorsSet.Single(weightsPath));

    /// <summary>From a config and resolved weights: one file or shards (a pipeline component's <see cref="ComponentWeights.Require"/>).</summary>
    public static AutoencoderKL Load(string configPath, SafetensorsSet weights)
    {
        var vae = new AutoencoderKL(VaeConfigReader.ReadFile(configPath));
        try { WeightLoader.Load(vae, weights, strict: true); }
        catch { vae.Dispose(); throw; }
        vae.eval();
        return vae;
    }

    /// <summary>Images [B,Cin,H,W] in [-1, 1] -> the latent distribution, [B,L,H/f,W/f] (f = <see cref="VaeConfig.DownscaleFactor"/>).</summary>
    public DiagonalGaussian Encode(Tensor images)
    {
        RequireChannels(images, Config.InChannels, nameof(images));
        return new DiagonalGaussian(PerImage(images, x =>
        {
            var moments = encoder.forward(x);                                      // [B,2L,h,w]
            return quant_conv is null ? moments : moments.Consume(m => Ops.Conv2d(quant_conv, m));
        }));
    }

    /// <summary>Raw latents [B,L,h,w] (no scaling) -> images [B,Cout,h*f,w*f], nominally in [-1, 1] (not clamped).</summary>
    public Tensor Decode(Tensor latents)
    {
        RequireChannels(latents, Config.LatentChannels, nameof(latents));
        return PerImage(latents, z => post_quant_conv is null ? decoder.forward(z) : Ops.Conv2d(post_quant_conv, z).Consume(decoder.forward));
    }

    /// <summary>
    /// What the denoiser sees: <c>(z - shift_factor) * scaling_factor</c>, z the distribution's mean when
    /// <paramref name="generator"/> is null (diffusers' <c>sample_mode="argmax"</c>), else a sample drawn from it.
    /// </summary>
    public Tensor ToLatents(DiagonalGaussian distribution, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var z = generator is null ? distribution.Mode() : distribution.Sample(generator);
        if (Config.ShiftFactor is { } shift) z = z - shift;
        return (z * Config.ScalingFactor).MoveToOuterDisposeScope();
    }

    /// <summary>Denoised latents back to images: <c>decode(latents / scaling_factor + shift_factor)</c>, in [-1, 1].</summary>
    public Tensor DecodeScaled(Tensor latents)
    {
        using var scope = NewDisposeScope();
        var z = latents / Config.ScalingFactor;
        if (Config.ShiftFactor is { } shift) z = z + shift;
        return Decode(z).MoveToOuterDisposeScope();
    }

    /// <summary>diffusers' reconstruction: the decoded mean of the images' distribution.</summary>
    public override Tensor forward(Tensor images)
    {
        using var distribution = Encode(images);
        return Decode(distribution.Mean);
    }

    /// <summary>Decoded images in [-1, 1] to [0, 1], clamped (diffusers' <c>VaeImageProcessor.denormalize</c>).</summary>
    public static Tensor ToUnitRange(Tensor images)
    {
        using var scope = NewDisposeScope();
        return (images * 0.5 + 0.5).clamp(0.0, 1.0).MoveToOuterDisposeScope();
    }

    /// <summary>Images in [0, 1] to the encoder's [-1, 1] (diffusers' <c>VaeImageProcessor.normalize</c>).</summary>
    public static Tensor FromUnitRange(Tensor images)
    {
        using var scope = NewDisposeScope();
        return (2.0 * images - 1.0).MoveToOuterDisposeScope();
    }

    private Tensor PerImage(Tensor batch, Func<Tensor, Tensor> run)
    {
        if (!SliceBatch || batch.shape[0] <= 1) return run(batch);
        using var scope = NewDisposeScope();
        var outputs = batch.split(1).Select(run).ToList();                         // B x [1,C,H,W]
        return cat(outputs, 0).MoveToOuterDisposeScope();                          // [B,C,H,W]
    }

    private static void RequireChannels(Tensor x, int channels, string name)
    {
        if (x.dim() != 4 || x.shape[1] != channels)
            throw new ArgumentException($"expected {name} of shape [B,{channels},H,W], got [{string.Join(",", x.shape)}]", name);
    }
}
