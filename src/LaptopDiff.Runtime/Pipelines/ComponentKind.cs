namespace LaptopDiff.Runtime.Pipelines;

/// <summary>What a pipeline component is, whatever its name in <c>model_index.json</c>.</summary>
public enum ComponentKind
{
    /// <summary>diffusers <c>UNet2DConditionModel</c>.</summary>
    UNet,
    /// <summary>diffusers <c>AutoencoderKL</c>.</summary>
    Vae,
    /// <summary>transformers <c>CLIPTextModel</c>.</summary>
    TextEncoder,
    /// <summary>transformers <c>CLIPTextModelWithProjection</c> (SDXL's second encoder).</summary>
    TextEncoderWithProjection,
    /// <summary>transformers <c>CLIPTokenizer</c>.</summary>
    Tokenizer,
    /// <summary>Any diffusers scheduler; its class name is kept as written.</summary>
    Scheduler,
}
