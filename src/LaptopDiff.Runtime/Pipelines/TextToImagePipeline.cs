using System.Diagnostics;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// diffusers' <c>StableDiffusionPipeline</c> / <c>StableDiffusionXLPipeline</c> text to image, in its phases: plan
/// (sizes, scheduler), encode the prompts, prepare the starting latents, the denoising loop, decode. Loaded from a
/// <see cref="PipelineFolder"/>, optionally with a student U-Net in place of the folder's. Runs in float32 on one device
/// (<see cref="Device"/>, the CPU by default); the U-Net in TorchSharp or, exported at load, in ONNX Runtime on the CPU
/// (<see cref="UNetRuntime"/>). Results come back on the CPU.
/// </summary>
public sealed class TextToImagePipeline : IDisposable
{
    private readonly OnnxUNet? _onnxUNet;

    private TextToImagePipeline(PipelineFolder folder, PromptEncoder prompts, UNet2DCondition unet, OnnxUNet? onnxUNet, AutoencoderKL vae)
    {
        Folder = folder;
        Prompts = prompts;
        UNet = unet;
        _onnxUNet = onnxUNet;
        Vae = vae;
    }

    public PipelineFolder Folder { get; }
    /// <summary>Tokenizer(s) and text encoder(s).</summary>
    public PromptEncoder Prompts { get; }
    /// <summary>The folder's U-Net, or the student given at load (with <see cref="UNetRuntime.Onnx"/>, the module it was exported from).</summary>
    public UNet2DCondition UNet { get; }
    /// <summary>Which runtime runs <see cref="UNet"/> in the denoising loop.</summary>
    public UNetRuntime Runtime => _onnxUNet is null ? UNetRuntime.Torch : UNetRuntime.Onnx;
    public AutoencoderKL Vae { get; }
    /// <summary>Where the text encoders, the U-Net and the VAE lie, and where every tensor of a call is made.</summary>
    public Device Device => UNet.Device;

    /// <summary>
    /// Loads every component (tokenizers first, where broken files show cheaply) and checks they fit together: the
    /// U-Net's cross-attention width against the text encoders, SDXL's addition embedding against the pooled width.
    /// With <see cref="UNetRuntime.Onnx"/> the U-Net is exported to a temporary ONNX file (removed on dispose) and opened
    /// in ONNX Runtime at libtorch's current thread count, so both runtimes sample at the same threads. Every component is moved
    /// to <paramref name="device"/> (default the CPU); the ONNX Runtime U-Net runs on the CPU only.
    /// </summary>
    /// <exception cref="InputException">ONNX Runtime asked for on a device other than the CPU.</exception>
    public static TextToImagePipeline Load(PipelineFolder folder, UNetReplacement? student = null, UNetRuntime runtime = UNetRuntime.Torch,
        Device? device = null)
    {
        device ??= CPU;
        if (runtime == UNetRuntime.Onnx && device.type != DeviceType.CPU)
            throw new InputException($"the ONNX Runtime U-Net runs on the CPU; {device} needs the TorchSharp U-Net.", nameof(runtime));
        var prompts = PromptEncoder.Load(folder);
        UNet2DCondition? unet = null;
        OnnxUNet? onnxUNet = null;
        try
        {
            CheckFits(folder, prompts);
            prompts.MoveTo(device);
            unet = student?.Load(folder) ?? folder.LoadUNet();
            unet.MoveTo(device);
            unet.eval();
            if (runtime == UNetRuntime.Onnx) onnxUNet = OnnxUNet.FromModel(unet, new OnnxSessionOptions { Threads = torch.get_num_threads() });
            var vae = ModuleDevice.MoveTo(AutoencoderKL.Load(folder.Vae.ConfigPath!, folder.Vae.Weights!.Require()), device);
            return new TextToImagePipeline(folder, prompts, unet, onnxUNet, vae);
        }
        catch
        {
            onnxUNet?.Dispose();
            unet?.Dispose();
            prompts.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Generates one image per prompt, all in one batch, on <see cref="Device"/> (given latents are moved there); the result's
    /// latents and images are on the CPU. <paramref name="progress"/> hears of each stage and each step on the calling thread.
    /// </summary>
    /// <exception cref="InputException">The request has a unit mask and the U-Net runs in ONNX Runtime.</exception>
    public TextToImageResult Generate(TextToImageRequest request, IProgress<PipelineProgress>? progress = null)
    {
        var denoiser = Denoiser(request.Mask);
        var clock = Stopwatch.StartNew();
        var plan = TextToImagePlan.Create(request, UNet.Layout.Spec, Vae.Config, Schedulers.SchedulerConfig.Load(Folder.Scheduler.ConfigPath!));

        // 1. prompts
        progress?.Report(new PipelineProgress(PipelineStage.EncodingPrompts, 0, plan.Steps, clock.Elapsed));
        var encodeWatch = Stopwatch.StartNew();
        using var conditional = Prompts.Encode(request.Prompts, request.ClipSkip);
        using var unconditional = plan.Guidance.IsGuided ? Prompts.EncodeNegative(request.NegativePrompt, conditional) : null;
        using var conditioning = GuidedConditioning.Create(conditional, unconditional, plan.TimeIds);
        if (Device.type == DeviceType.CUDA) cuda.synchronize();
        double encodeMs = encodeWatch.Elapsed.TotalMilliseconds;

        // 2. timesteps and starting latents
        var scheduler = plan.Scheduler.CreateScheduler();
        scheduler.SetTimesteps(plan.Steps);
        long? seed = request.InitialLatents is null ? request.Seed ?? Random.Shared.NextInt64() : null;
        using var noise = request.InitialLatents?.to(Device) ?? InitialNoise.Draw(seed!.Value, plan.Batch, plan.LatentChannels, plan.LatentHeight, plan.LatentWidth, Device);

        // 3. denoising
        var steps = new List<StepTiming>();
        progress?.Report(new PipelineProgress(PipelineStage.Denoising, 0, plan.Steps, clock.Elapsed));
        var latents = DenoisingLoop.Run(denoiser, scheduler, noise, conditioning, plan.Guidance, step =>
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
            try { images = HostCopy.Take(DecodeToImages(latents)); }
            catch { latents.Dispose(); throw; }
            decodeMs = decodeWatch.Elapsed.TotalMilliseconds;
        }
        latents = HostCopy.Take(latents);
        var timings = new PipelineTimings(encodeMs, steps, decodeMs, clock.Elapsed.TotalMilliseconds);
        return new TextToImageResult(latents, images, plan, seed, conditional.Truncations, timings);
    }

    /// <summary>Final latents [N,C,h,w] on <see cref="Device"/> to images [N,3,H,W] in [0,1] there: <c>decode(latents / scaling_factor)</c>, then <c>(x/2 + 0.5).clamp(0, 1)</c>.</summary>
    public Tensor DecodeToImages(Tensor latents)
    {
        using var noGrad = no_grad();
        using var decoded = Vae.DecodeScaled(latents);
        return AutoencoderKL.ToUnitRange(decoded);
    }

    private IUNetRunner Denoiser(UnitMask? mask) => (mask, _onnxUNet) switch
    {
        (null, null) => UNet,
        (null, { } onnx) => onnx,
        ({ } units, null) => new MaskedUNet(UNet, units),
        _ => throw new InputException("A unit mask skips units of the TorchSharp U-Net; the ONNX Runtime U-Net is the exported model as loaded. " +
                                      "Export a pruned student instead, or sample the mask with the TorchSharp runtime.", nameof(TextToImageRequest.Mask)),
    };

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
        _onnxUNet?.Dispose();
        UNet.Dispose();
        Vae.Dispose();
    }
}
