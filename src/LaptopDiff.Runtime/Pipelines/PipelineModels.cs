using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// Builds a Stable Diffusion folder's VAE, text encoder and tokenizer from its components (configs and weights as
/// <see cref="PipelineFolder"/> resolved them), each loaded strictly and in eval mode.
/// </summary>
public static class PipelineModels
{
    public static AutoencoderKL LoadVae(PipelineFolder folder)
    {
        var vae = new AutoencoderKL(VaeConfigReader.ReadFile(folder.Vae.ConfigPath!));
        try { WeightLoader.Load(vae, folder.Vae.Weights!); }
        catch { vae.Dispose(); throw; }
        vae.eval();
        return vae;
    }

    public static ClipTextModel LoadTextEncoder(PipelineFolder folder)
    {
        var weights = folder.TextEncoder.Weights!.Require();
        if (!weights.IsSharded) return ClipTextModel.Load(folder.TextEncoder.ConfigPath!, weights.Path, withProjection: false);
        var model = new ClipTextModel(ClipTextConfig.Load(folder.TextEncoder.ConfigPath!, withProjection: false));
        try { WeightLoader.Load(model, weights); }
        catch { model.Dispose(); throw; }
        model.eval();
        return model;
    }

    public static ClipTokenizer LoadTokenizer(PipelineFolder folder) => ClipTokenizer.Load(folder.Tokenizer.Folder);

    /// <summary>Pixel side of the pipeline's images: the U-Net's sample size times the VAE's downscale factor.</summary>
    public static int ImageSize(PipelineFolder folder) =>
        folder.ImportUNetSpec().SampleSize * VaeConfigReader.ReadFile(folder.Vae.ConfigPath!).DownscaleFactor;
}
