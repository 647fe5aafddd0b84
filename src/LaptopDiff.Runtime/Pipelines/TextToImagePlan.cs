using System.Globalization;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// What a <see cref="TextToImageRequest"/> resolves to on a folder, checked before any weights load: image and latent
/// sizes, the scheduler (class and config as <c>from_config</c> derives it) and the guidance. Every problem is an
/// <see cref="InputException"/> naming the value.
/// </summary>
/// <param name="SchedulerNote">Set when the folder's scheduler class is not the one sampling because LaptopDiff does not implement it.</param>
public sealed record TextToImagePlan(
    int Batch, int Height, int Width, int LatentChannels, int LatentHeight, int LatentWidth, int Steps,
    DerivedSchedulerConfig Scheduler, string? SchedulerNote, Guidance Guidance)
{
    /// <summary>SDXL's <c>time_ids</c> row: original size, crop top-left (0, 0), target size, as diffusers' defaults.</summary>
    public float[] TimeIds => [Height, Width, 0, 0, Height, Width];

    /// <summary>Reads the configs the plan needs (U-Net, VAE, scheduler) from <paramref name="folder"/>; loads no weights.</summary>
    public static TextToImagePlan Create(PipelineFolder folder, TextToImageRequest request) =>
        Create(request, folder.ImportUNetSpec(), VaeConfigReader.ReadFile(folder.Vae.ConfigPath!), SchedulerConfig.Load(folder.Scheduler.ConfigPath!));

    public static TextToImagePlan Create(TextToImageRequest request, UNetSpec unet, VaeConfig vae, SchedulerConfig schedulerConfig)
    {
        if (request.Prompts.Count == 0) throw new InputException("no prompt given: a text-to-image call needs at least one prompt.");
        var kind = request.Scheduler ?? schedulerConfig.DefaultKind;
        var scheduler = schedulerConfig.For(kind);
        int trainSteps = scheduler.Options.Schedule.TrainSteps;
        if (request.Steps < 1 || request.Steps > trainSteps)
            throw new InputException($"{request.Steps} inference steps: the scheduler takes 1 to {trainSteps} (its num_train_timesteps).");
        if (!double.IsFinite(request.GuidanceScale)) throw new InputException($"guidance scale {request.GuidanceScale} is not a number.");
        if (!(request.GuidanceRescale >= 0 && request.GuidanceRescale <= 1))
            throw new InputException($"guidance rescale {request.GuidanceRescale.ToString(CultureInfo.InvariantCulture)} must lie in 0..1.");
        if (request.ClipSkip is < 0) throw new InputException($"clip skip {request.ClipSkip} must be 0 or more.");

        int factor = vae.DownscaleFactor, multiple = Math.Max(8, factor);
        int channels = unet.InChannels;
        int? latentHeight = null, latentWidth = null;
        if (request.InitialLatents is { } latents)
        {
            long[] expected = [request.Prompts.Count, channels];
            if (latents.dim() != 4 || latents.shape[0] != expected[0] || latents.shape[1] != expected[1])
                throw new InputException($"initial latents are [{string.Join(",", latents.shape)}]; {request.Prompts.Count} prompt(s) need " +
                                         $"[{request.Prompts.Count},{channels},H/{factor},W/{factor}] (the U-Net's in_channels, the VAE's downscale factor).");
            if (latents.dtype != TorchSharp.torch.ScalarType.Float32)
                throw new InputException($"initial latents are {latents.dtype}; expected float32.");
            (latentHeight, latentWidth) = ((int)latents.shape[2], (int)latents.shape[3]);
        }

        int defaultSize = unet.SampleSize * factor;
        int height = request.Height ?? (latentHeight * factor) ?? defaultSize;
        int width = request.Width ?? (latentWidth * factor) ?? defaultSize;
        CheckSize("height", height, multiple, factor);
        CheckSize("width", width, multiple, factor);
        if (latentHeight is { } lh && (lh * factor != height || latentWidth!.Value * factor != width))
            throw new InputException($"initial latents of {lh}x{latentWidth} make {lh * factor}x{latentWidth * factor} pixel images " +
                                     $"(VAE factor {factor}), not the {height}x{width} asked for.");

        string? note = request.Scheduler is null && schedulerConfig.Kind is null
            ? $"the folder's scheduler is {schedulerConfig.ClassName ?? "unnamed (no _class_name)"}, which LaptopDiff does not implement; " +
              $"sampling with {kind.ClassName()} built from its config ({schedulerConfig.Path})."
            : null;
        return new TextToImagePlan(request.Prompts.Count, height, width, channels, height / factor, width / factor, request.Steps,
            scheduler, note, new Guidance(request.GuidanceScale, request.GuidanceRescale));
    }

    // diffusers requires multiples of 8; a VAE that downscales more needs multiples of its own factor.
    private static void CheckSize(string what, int pixels, int multiple, int factor)
    {
        if (pixels <= 0 || pixels % multiple != 0)
            throw new InputException($"{what} {pixels} is not a positive multiple of {multiple}: images are made of latents of " +
                                     $"{factor}x{factor} pixels each (the VAE's downscale factor), and Stable Diffusion pipelines need multiples of 8.");
    }
}
