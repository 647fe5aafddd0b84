using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Vae;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Sampling;

/// <summary>
/// A minimal Stable Diffusion text-to-image loop for evaluating a pipeline folder: prompts -> the text encoder's last
/// hidden states (the empty prompt's for the unconditional half) -> DDIM (eta 0, no clipping: latents are not bounded,
/// the last step to acp = 1) with classifier-free guidance -> VAE decode of latents / scaling_factor. Starting latents of
/// sample j come from stream (seed, j) (<see cref="DdimSampler.InitialNoise"/>); DDIM's initial noise sigma is 1.
/// Kept small and apart so a shared pipeline sampler can replace it.
/// </summary>
public sealed class TextToImageSampler : IDisposable
{
    private readonly UNet2DCondition _unet;
    private readonly ClipTextModel _textEncoder;
    private readonly ClipTokenizer _tokenizer;
    private readonly AutoencoderKL _vae;
    private readonly NoiseSchedule _schedule;

    public TextToImageSampler(UNet2DCondition unet, ClipTextModel textEncoder, ClipTokenizer tokenizer, AutoencoderKL vae, NoiseSchedule schedule)
    {
        _unet = unet;
        _textEncoder = textEncoder;
        _tokenizer = tokenizer;
        _vae = vae;
        _schedule = schedule;
    }

    /// <summary>Every model of a StableDiffusionPipeline folder, loaded strictly (the sampler owns them).</summary>
    public static TextToImageSampler Open(PipelineFolder folder) =>
        new(folder.LoadUNet(), PipelineModels.LoadTextEncoder(folder), PipelineModels.LoadTokenizer(folder), PipelineModels.LoadVae(folder), SchedulerNoise.Read(folder));

    public UNet2DCondition UNet => _unet;
    public AutoencoderKL Vae => _vae;

    /// <summary>Decoded images [N,3,H,W] in [-1,1] (not clamped) of <paramref name="prompts"/>; sample j's noise is stream (seed, j).</summary>
    public Tensor Generate(IReadOnlyList<string> prompts, long seed, int steps, double guidanceScale, int batch, IProgress<int>? progress = null)
    {
        using var noGrad = no_grad();
        _unet.eval();
        _textEncoder.eval();
        var sampler = new DdimSampler(_schedule, steps, clipSample: false);
        var spec = _unet.Layout.Spec;
        using var uncond = Conditioning([""]);
        var parts = new List<Tensor>();
        try
        {
            for (int start = 0; start < prompts.Count; start += batch)
            {
                int count = Math.Min(batch, prompts.Count - start);
                using var scope = NewDisposeScope();
                var cond = Conditioning(prompts.Skip(start).Take(count).ToList());
                var noise = DdimSampler.InitialNoise(seed, start, count, spec.InChannels, spec.SampleSize);
                var latents = sampler.Sample(DdimSampler.Predictor(_unet), noise, cond, uncond, guidanceScale);
                parts.Add(_vae.DecodeScaled(latents).MoveToOuterDisposeScope());
                progress?.Report(start + count);
            }
            return cat(parts);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>The text encoder's last hidden states [B,T,D] of the prompts (what SD-1.5 conditions on).</summary>
    public Tensor Conditioning(IReadOnlyList<string> prompts)
    {
        using var noGrad = no_grad();
        using var ids = _tokenizer.EncodeBatch(prompts);
        using var output = _textEncoder.forward(ids);
        return output.LastHiddenState.clone();
    }

    public void Dispose()
    {
        _unet.Dispose();
        _textEncoder.Dispose();
        _vae.Dispose();
    }
}
