using LaptopDiff.Runtime.Schedulers;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>Wall time per stage of one call: text encoding, each denoising step, decoding (0 when not decoded), and the whole call.</summary>
public sealed record PipelineTimings(double TextEncodingMs, IReadOnlyList<StepTiming> Steps, double DecodingMs, double TotalMs)
{
    public double DenoisingMs => Steps.Sum(s => s.ElapsedMs);
}

/// <summary>The stage a running call is in, for progress displays.</summary>
public enum PipelineStage { EncodingPrompts, Denoising, Decoding }

/// <summary>Progress of a call: its stage, the denoising steps done of all, and the time since the call began.</summary>
public sealed record PipelineProgress(PipelineStage Stage, int StepsDone, int Steps, TimeSpan Elapsed, StepTiming? LastStep = null);

/// <summary>
/// The outputs of a text-to-image call: the final latents [N,C,h,w] (<c>output_type="latent"</c>), the images [N,3,H,W]
/// in [0,1] (<c>output_type="pt"</c>; null when not decoded), and what the call chose and measured. Owns its tensors.
/// </summary>
public sealed class TextToImageResult(Tensor latents, Tensor? images, TextToImagePlan plan, long? seed,
    IReadOnlyList<PromptTruncation> truncations, PipelineTimings timings) : IDisposable
{
    public Tensor Latents { get; } = latents;
    public Tensor? Images { get; } = images;
    /// <summary>Size, scheduler, guidance: what the call resolved from the request and the folder.</summary>
    public TextToImagePlan Plan { get; } = plan;
    /// <summary>The seed of the starting noise; null when the request gave the latents.</summary>
    public long? Seed { get; } = seed;
    /// <summary>Prompts cut to the tokenizers' length (diffusers warns about each).</summary>
    public IReadOnlyList<PromptTruncation> Truncations { get; } = truncations;
    public PipelineTimings Timings { get; } = timings;

    public void Dispose()
    {
        Latents.Dispose();
        Images?.Dispose();
    }
}
