using System.Diagnostics;
using LaptopDiff.Runtime.Vae;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// diffusers' <c>StableDiffusionPipeline</c> / <c>StableDiffusionXLPipeline</c> text to image, in its phases: plan
/// (sizes, scheduler), encode the prompts, prepare the starting latents, the denoising loop, decode. Loaded from a
/// <see cref="PipelineFolder"/>, optionally with a student U-Net in place of the folder's. Runs in float32 on the CPU.
/// </summary>
public sealed class TextToImagePipeline : IDisposable
{
    private TextToImagePipeline(PipelineFolder folder, PromptEncoder prompts, UNet2DCondition unet, AutoencoderKL vae)
    {
        Folder = folder;
        Prompts = prompts;
        UNet = unet;
        Vae = vae;
    }

    public PipelineFolder Folder { get; }
    /// <summary>Tokenizer(s) and text encoder(s).</summary>
    public PromptEncoder Prompts { get; }
    /// <summary>The folder's U-Net, or the student given at load.</summary>
    public UNet2DCondition UNet { get; }
    public AutoencoderKL Vae { get; }

    /// <summary>
    /// Loads every component (tokenizers first, where broken files show cheaply) and checks they fit together: the
    /// U-Net's cross-attention width against the text encoders, SDXL's addition embedding against the pooled width.
    /// </summary>
    public static TextToImagePipeline Load(PipelineFolder folder, UNetReplacement? student = null)
    {
        var prompts = PromptEncoder.Load(folder);
        UNet2DCondition? unet = null;
        try
        {
            CheckFits(folder, prompts);
            unet = student?.Load(folder) ?? folder.LoadUNet();
            unet.eval();
            var vae = AutoencoderKL.Load(folder.Vae.ConfigPath!, folder.Vae.Weights!.Require());
            return new TextToImagePipeline(folder, prompts, unet, vae);
        }
        catch
        {
            unet?.Dispose();
            prompts.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Generates one image per prompt, all in one batch. <paramref name="progress"/> hears of each stage and each step
    /// on the calling thread.
    /// </summary>
    public TextToImageResult Generate(TextToImageRequest request, IProgress<PipelineProgress>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var plan = TextToImagePlan.Create(request, UNet.Layout.Spec, Vae.Config, Schedulers.SchedulerConfig.Load(Folder.Scheduler.ConfigPath!));

        // 1. prompts
        progress?.Report(new PipelineProgress(PipelineStage.EncodingPrompts, 0, plan.Steps, clock.Elapsed));
        var encodeWatch = Stopwatch.StartNew();
        using var conditional = Prompts.Encode(request.Prompts, request.ClipSkip);
        using var unconditional = plan.Guidance.IsGuided ? Prompts.EncodeNegative(request.NegativePrompt, conditional) : null;
        using var conditioning = GuidedConditioning.Create(conditional, unconditional, plan.TimeIds);
        double encodeMs = encodeWatch.Elapsed.TotalMilliseconds;

        // 2. timesteps and starting latents
        var scheduler = plan.Scheduler.CreateScheduler();
        scheduler.SetTimesteps(plan.Steps);
        long? seed = request.InitialLatents is null ? request.Seed ?? Random.Shared.NextInt64() : null;
        using var noise = request.InitialLatents?.alias() ?? InitialNoise.Draw(seed!.Value, plan.Batch, plan.LatentChannels, plan.LatentHeight, plan.LatentWidth);

        // 3. denoising
        var steps = new List<StepTiming>();
        progress?.Report(new PipelineProgress(PipelineStage.Denoising, 0, plan.Steps, clock.Elapsed));
        var latents = DenoisingLoop.Run(UNet, scheduler, noise, conditioning, plan.Guidance, request.Mask, step =>
        {
            steps.Add(step);
            progress?.Report(new PipelineProgress(PipelineStage.Denoising, step.Index + 1, plan.Steps, clock.Elapsed, step));
        });

        // 4. decoding
        Tensor? images = null;
        double decodeMs = 0;
        if (request.Decode)
        {
            progress?.Report(new PipelineProgress(PipelineStage.Decoding, plan.Steps, plan.Steps, clock.Elapsed));
            var decodeWatch = Stopwatch.StartNew();
            try { images = DecodeToImages(latents); }
            catch { latents.Dispose(); throw; }
            decodeMs = decodeWatch.Elapsed.TotalMilliseconds;
        }
        var timings = new PipelineTimings(encodeMs, steps, decodeMs, clock.Elapsed.TotalMilliseconds);
        return new TextToImageResult(latents, images, plan, seed, conditional.Truncations, timings);
    }

    /// <summary>Final latents [N,C,h,w] to images [N,3,H,W] in [0,1]: <c>decode(latents / scaling_factor)</c>, then <c>(x/2 + 0.5).clamp(0, 1)</c>.</summary>
    public Tensor DecodeToImages(Tensor latents)
    {
        using var noGrad = no_grad();
        using var decoded = Vae.DecodeScaled(latents);
        return AutoencoderKL.ToUnitRange(decoded);
    }

    private static void CheckFits(PipelineFolder folder, PromptEncoder prompts)
    {
        var unet = folder.ImportUNetSpec();
        var config = folder.UNet.ConfigPath;
        if (unet.CrossAttentionDim != prompts.EmbeddingDim)
            throw new PipelineException($"{config}: cross_attention_dim is {unet.CrossAttentionDim}, but the text encoder(s) give {prompts.EmbeddingDim} " +
                                        $"channels ({string.Join(" + ", prompts.TextEncoders.Select(e => e.Config.HiddenSize))}): the components do not belong together.");
        var add = unet.AdditionEmbedding;
        if (folder.Kind == PipelineKind.StableDiffusion && add is not null)
            throw new PipelineException($"{config}: the U-Net has SDXL's text_time addition embedding, but {folder.ClassName} gives it no pooled text embeddings or time ids.");
        if (folder.Kind == PipelineKind.StableDiffusionXL && (add is null || add.TextEmbedDim != prompts.PooledDim))
            throw new PipelineException(add is null
                ? $"{config}: a {folder.ClassName} needs a U-Net with addition_embed_type \"text_time\"."
                : $"{config}: the addition embedding takes {add.TextEmbedDim} pooled channels (projection_class_embeddings_input_dim {add.ProjectionInputDim} " +
                  $"- {add.TimeIdCount} x addition_time_embed_dim {add.TimeEmbedDim}), but text_encoder_2's projection_dim is {prompts.PooledDim}.");
    }

    public void Dispose()
    {
        Prompts.Dispose();
        UNet.Dispose();
        Vae.Dispose();
    }
}
