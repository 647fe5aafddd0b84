using System.Diagnostics;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Schedulers;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>One denoising step as it ran: its index, the timestep the U-Net saw, the U-Net's batch (2N with guidance) and its wall time.</summary>
public sealed record StepTiming(int Index, double Timestep, long UNetBatch, double ElapsedMs);

/// <summary>
/// Classifier-free guidance as diffusers applies it: <c>eps = eps_u + Scale (eps_c - eps_u)</c> when
/// <see cref="Scale"/> &gt; 1 (else the conditional prediction alone), then, when <see cref="Rescale"/> &gt; 0,
/// diffusers' <c>rescale_noise_cfg</c> (Lin et al. 2023, eq. 15-16) towards the conditional prediction's standard deviation.
/// </summary>
public sealed record Guidance(double Scale, double Rescale = 0)
{
    /// <summary>Whether the unconditional half runs (diffusers' <c>do_classifier_free_guidance</c>).</summary>
    public bool IsGuided => Scale > 1;
}

/// <summary>
/// Watches a loop from outside: <see cref="OnPrediction"/> hears each step's index, its sample x (before
/// <c>scale_model_input</c>) and the guided prediction, both [N,C,h,w] and valid only during the call; the loop
/// returns after step <see cref="LastStep"/> (calibration needs states only up to the steps it keeps).
/// </summary>
public sealed record LoopTap(int LastStep, Action<int, Tensor, Tensor> OnPrediction);

/// <summary>
/// The sampling loop of diffusers' Stable Diffusion pipelines over any <see cref="DiffusionScheduler"/>: the starting
/// latents times <c>init_noise_sigma</c>, then per step <c>scale_model_input</c>, one U-Net forward over both guidance
/// halves (<c>cat([x, x])</c> against <see cref="GuidedConditioning"/>'s <c>cat([uncond, cond])</c>), the guidance
/// combination and <c>step</c>. The U-Net is any <see cref="IUNetRunner"/>: the TorchSharp module, a
/// <see cref="MaskedUNet"/> or an exported graph in ONNX Runtime.
/// </summary>
public static class DenoisingLoop
{
    /// <summary>
    /// Runs every step of <paramref name="scheduler"/> (already set) from <paramref name="noise"/> [N,C,h,w]; returns the final latents.
    /// Everything runs on the noise's device (the conditioning and the U-Net must be there too).
    /// </summary>
    public static Tensor Run(IUNetRunner unet, DiffusionScheduler scheduler, Tensor noise, GuidedConditioning conditioning,
        Guidance guidance, Action<StepTiming>? onStep = null, LoopTap? tap = null)
    {
        if (conditioning.Guided != guidance.IsGuided)
            throw new ArgumentException($"guidance scale {guidance.Scale} {(guidance.IsGuided ? "needs" : "takes no")} an unconditional half", nameof(conditioning));
        long n = noise.shape[0];
        if (conditioning.Batch != (guidance.IsGuided ? 2 * n : n))
            throw new ArgumentException($"conditioning has {conditioning.Batch} rows for {n} latents", nameof(conditioning));

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = noise * scheduler.InitNoiseSigma;                                                 // [N,C,h,w]
        int last = Math.Min(scheduler.Timesteps.Count - 1, tap?.LastStep ?? int.MaxValue);
        for (int k = 0; k <= last; k++)
        {
            var watch = Stopwatch.StartNew();
            using (var step = NewDisposeScope())
            {
                var both = guidance.IsGuided ? cat([x, x], 0) : x;                                 // [B,C,h,w]
                var input = scheduler.ScaleModelInput(both, k);
                var t = scheduler.TimestepTensor(k, x.device);
                using var output = unet.Forward(new UNetInputs(input, t, conditioning.EncoderHiddenStates, conditioning.TextEmbeds, conditioning.TimeIds));
                var eps = Guide(output.Sample, guidance);                                           // [N,C,h,w]
                tap?.OnPrediction(k, x, eps);
                x = scheduler.Step(eps, k, x).MoveToOuterDisposeScope();
            }
            if (x.device_type == TorchSharp.DeviceType.CUDA) cuda.synchronize();                        // the step's time is its own
            onStep?.Invoke(new StepTiming(k, scheduler.Timesteps[k], conditioning.Batch, watch.Elapsed.TotalMilliseconds));
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The guided noise prediction from the U-Net's output over the batch (uncond rows first).</summary>
    public static Tensor Guide(Tensor prediction, Guidance guidance)
    {
        if (!guidance.IsGuided) return prediction.alias();
        using var scope = NewDisposeScope();
        var halves = prediction.chunk(2, 0);
        var (uncond, cond) = (halves[0], halves[1]);                                              // [N,C,h,w] each
        var eps = uncond + guidance.Scale * (cond - uncond);
        if (guidance.Rescale > 0) eps = RescaleToConditional(eps, cond, guidance.Rescale);
        return eps.MoveToOuterDisposeScope();
    }

    // rescale_noise_cfg: per sample, match the conditional prediction's (unbiased) standard deviation, then blend.
    private static Tensor RescaleToConditional(Tensor eps, Tensor cond, double rescale)
    {
        var dims = Enumerable.Range(1, (int)eps.dim() - 1).Select(d => (long)d).ToArray();
        var rescaled = eps * (cond.std(dims, unbiased: true, keepdim: true) / eps.std(dims, unbiased: true, keepdim: true));   // [N,1,1,1] ratios
        return rescale * rescaled + (1 - rescale) * eps;
    }
}
