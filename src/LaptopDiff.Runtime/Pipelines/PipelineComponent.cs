using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// One component of a pipeline folder: its name in <c>model_index.json</c> (<c>unet</c>, <c>text_encoder_2</c>),
/// what it is, its declared library and class, its folder, and for models their resolved weight files.
/// </summary>
/// <param name="FolderExists">False only for a tokenizer of a folder opened with <see cref="PipelineFolder.OpenStructure"/>.</param>
/// <param name="Weights">For models (U-Net, VAE, text encoders): the resolved weights, possibly none; null for tokenizers and schedulers.</param>
public sealed record PipelineComponent(
    string Name, ComponentKind Kind, string Library, string ClassName, string Folder, bool FolderExists, ComponentWeights? Weights)
{
    /// <summary>
    /// The component's config: <c>config.json</c> for models, <c>scheduler_config.json</c> for the scheduler (both checked to
    /// exist when the folder is opened); null for tokenizers, whose folder holds the tokenizer's own files.
    /// </summary>
    public string? ConfigPath => Kind switch
    {
        ComponentKind.Tokenizer => null,
        ComponentKind.Scheduler => Path.Combine(Folder, "scheduler_config.json"),
        _ => Path.Combine(Folder, "config.json"),
    };

    public bool IsModel => Kind is ComponentKind.UNet or ComponentKind.Vae or ComponentKind.TextEncoder or ComponentKind.TextEncoderWithProjection;

    public override string ToString() => $"{Name} ({Library} {ClassName})";
}

/// <summary>An optional component LaptopDiff never reads (e.g. the SD safety checker), as <c>model_index.json</c> names it.</summary>
public sealed record UnusedComponent(string Name, string Library, string ClassName)
{
    public override string ToString() => $"{Name} ({Library} {ClassName})";
}
