using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Vae;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Sampling;

/// <summary>
/// Many prompts through <see cref="TextToImagePipeline"/> in batches, for evaluation: DDIM from the folder's
/// scheduler config, guidance against the empty prompt, and the starting noise of all N samples drawn at once from
/// <paramref name="seed"/> (<see cref="InitialNoise.Draw"/>), so sample j's noise does not depend on the batch size.
/// </summary>
public sealed class TextToImageSampler(TextToImagePipeline pipeline) : IDisposable
{
    public static TextToImageSampler Open(PipelineFolder folder, Device? device = null) => new(TextToImagePipeline.Load(folder, device: device));

    public TextToImagePipeline Pipeline { get; } = pipeline;
    public UNet2DCondition UNet => Pipeline.UNet;
    public AutoencoderKL Vae => Pipeline.Vae;

    /// <summary>
    /// Decoded images [N,3,H,W] in [-1,1] (the pipeline's [0,1] images mapped back) of <paramref name="prompts"/>, on the CPU;
    /// with <paramref name="first"/>, only the first that many (from the same noise as in the whole set).
    /// </summary>
    public Tensor Generate(IReadOnlyList<string> prompts, long seed, int steps, double guidanceScale, int batch, IProgress<int>? progress = null, int? first = null)
    {
        var spec = UNet.Layout.Spec;
        using var noise = InitialNoise.Draw(seed, prompts.Count, spec.InChannels, spec.SampleSize, spec.SampleSize);   // [N,C,h,w]
        int total = Math.Min(first ?? prompts.Count, prompts.Count);
        var parts = new List<Tensor>();
        try
        {
            for (int start = 0; start < total; start += batch)
            {
                int count = Math.Min(batch, total - start);
                using var latents = noise.narrow(0, start, count);
                using var result = Pipeline.Generate(new TextToImageRequest
                {
                    Prompts = prompts.Skip(start).Take(count).ToList(), NegativePrompt = "", Steps = steps, GuidanceScale = guidanceScale,
                    Scheduler = SchedulerKind.Ddim, InitialLatents = latents,
                });
                parts.Add(result.Images!.mul(2).sub_(1));
                progress?.Report(start + count);
            }
            return cat(parts);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    public void Dispose() => Pipeline.Dispose();
}
