using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Schedulers;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// One text-to-image call, with diffusers' <c>__call__</c> arguments: all prompts run as one batch (N images).
/// </summary>
public sealed record TextToImageRequest
{
    /// <summary>One image per prompt.</summary>
    public required IReadOnlyList<string> Prompts { get; init; }
    /// <summary>Guides away from this text for every prompt; null = none (SD: <c>""</c>; SDXL: zeros when the folder forces them).</summary>
    public string? NegativePrompt { get; init; }
    public int Steps { get; init; } = 25;
    /// <summary>Classifier-free guidance; 1 or less runs the conditional half only, as diffusers does.</summary>
    public double GuidanceScale { get; init; } = 7.5;
    /// <summary>diffusers' <c>guidance_rescale</c> (0 = off).</summary>
    public double GuidanceRescale { get; init; }
    /// <summary>The scheduler class; null = the folder's when LaptopDiff implements it, else DDIM (with a note in the result).</summary>
    public SchedulerKind? Scheduler { get; init; }
    /// <summary>
    /// Seed of the starting noise, drawn as <c>torch.randn(shape, generator=torch.Generator().manual_seed(seed))</c>
    /// on the CPU (the same values diffusers draws there); null = a fresh random seed, reported in the result.
    /// Ignored when <see cref="InitialLatents"/> is given.
    /// </summary>
    public long? Seed { get; init; }
    /// <summary>The starting noise [N,C,h,w] before <c>init_noise_sigma</c>, as diffusers' <c>latents=</c> argument; the caller owns it.</summary>
    public Tensor? InitialLatents { get; init; }
    /// <summary>Image size in pixels; null = from <see cref="InitialLatents"/>, else the U-Net's <c>sample_size</c> times the VAE's factor.</summary>
    public int? Height { get; init; }
    public int? Width { get; init; }
    /// <summary>diffusers' <c>clip_skip</c>: layers skipped from the end of the text encoder(s); null = the pipeline's default.</summary>
    public int? ClipSkip { get; init; }
    /// <summary>U-Net units to skip (pruning without a student model); null = the whole U-Net.</summary>
    public UnitMask? Mask { get; init; }
    /// <summary>False returns the final latents only (diffusers' <c>output_type="latent"</c>).</summary>
    public bool Decode { get; init; } = true;
}
