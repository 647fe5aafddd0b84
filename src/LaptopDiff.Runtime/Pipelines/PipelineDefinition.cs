namespace LaptopDiff.Runtime.Pipelines;

/// <summary>A component a pipeline class needs: its name in <c>model_index.json</c> and the class it must be.</summary>
/// <param name="ClassName">The one accepted class; null for the scheduler, where any diffusers scheduler class is.</param>
internal sealed record ComponentSlot(string Name, ComponentKind Kind, string Library, string? ClassName)
{
    public string Expected => ClassName is null ? $"a {Library} scheduler class (e.g. DDIMScheduler)" : $"{Library} {ClassName}";

    public bool Accepts(string library, string className) => library == Library &&
        (ClassName is null ? className.EndsWith("Scheduler", StringComparison.Ordinal) : className == ClassName);
}

/// <summary>
/// What one diffusers pipeline class holds, after its <c>__init__</c>: the components LaptopDiff uses (all required),
/// optional ones it never reads (a safety checker, an image encoder: null or any class), and its config options.
/// </summary>
internal sealed record PipelineDefinition(
    PipelineKind Kind, string ClassName, IReadOnlyList<ComponentSlot> Components, IReadOnlyList<string> Unused, IReadOnlyList<string> Options)
{
    private static readonly ComponentSlot[] Sd =
    [
        new("unet", ComponentKind.UNet, "diffusers", "UNet2DConditionModel"),
        new("vae", ComponentKind.Vae, "diffusers", "AutoencoderKL"),
        new("text_encoder", ComponentKind.TextEncoder, "transformers", "CLIPTextModel"),
        new("tokenizer", ComponentKind.Tokenizer, "transformers", "CLIPTokenizer"),
        new("scheduler", ComponentKind.Scheduler, "diffusers", null),
    ];

    public const string RequiresSafetyChecker = "requires_safety_checker";
    public const string ForceZerosForEmptyPrompt = "force_zeros_for_empty_prompt";

    public static readonly IReadOnlyList<PipelineDefinition> All =
    [
        new(PipelineKind.StableDiffusion, "StableDiffusionPipeline", Sd,
            ["safety_checker", "feature_extractor", "image_encoder"], [RequiresSafetyChecker]),
        new(PipelineKind.StableDiffusionXL, "StableDiffusionXLPipeline",
            [
                .. Sd,
                new("text_encoder_2", ComponentKind.TextEncoderWithProjection, "transformers", "CLIPTextModelWithProjection"),
                new("tokenizer_2", ComponentKind.Tokenizer, "transformers", "CLIPTokenizer"),
            ],
            ["feature_extractor", "image_encoder"], [ForceZerosForEmptyPrompt]),
    ];

    public static string Supported => string.Join(", ", All.Select(d => d.ClassName));

    public static PipelineDefinition? Find(string className) => All.FirstOrDefault(d => d.ClassName == className);

    public string ComponentNames => string.Join(", ", Components.Select(c => c.Name));
}
