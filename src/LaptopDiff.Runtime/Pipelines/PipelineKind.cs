namespace LaptopDiff.Runtime.Pipelines;

/// <summary>The text-to-image pipelines LaptopDiff reads, told by <c>model_index.json</c>'s <c>_class_name</c>.</summary>
public enum PipelineKind
{
    /// <summary><c>StableDiffusionPipeline</c> (Stable Diffusion 1.x and 2.x).</summary>
    StableDiffusion,
    /// <summary><c>StableDiffusionXLPipeline</c> (SDXL base).</summary>
    StableDiffusionXL,
}
