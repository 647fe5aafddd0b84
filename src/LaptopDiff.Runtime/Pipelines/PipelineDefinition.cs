namespace LaptopDiff.Runtime.Pipelines;

/// <summary>A component a pipeline class needs: its name in <c>model_index.json</c> and the classes it may be.</summary>
/// <param name="ClassNames">The accepted classes; empty for the scheduler, where any diffusers scheduler class is.</param>
internal sealed record ComponentSlot(string Name, ComponentKind Kind, string Library, IReadOnlyList<string> ClassNames)
{
    public string Expected => ClassNames.Count == 0 ? $"a {Library} scheduler class (e.g. DDIMScheduler)" : $"{Library} {string.Join(" or ", ClassNames)}";

    public bool Accepts(string library, string className) => library == Library &&
        (ClassNames.Count == 0 ? className.EndsWith("Scheduler", StringComparison.Ordinal) : ClassNames.Contains(className));
}

/// <summary>
/// What one diffusers pipeline class holds, after its <c>__init__</c>: the components LaptopDiff uses (all required),
/// optional ones it never reads (a safety checker, an image encoder: null or any class), and its config options.
/// </summary>
internal sealed record PipelineDefinition(
    PipelineKind Kind, string ClassName, IReadOnlyList<ComponentSlot> Components, IReadOnlyList<string> Unused, IReadOnlyList<string> Options)
{
    // Folders name the fast tokenizer class too; both save vocab.json and merges.txt, which is what LaptopDiff reads.
    private static readonly string[] Tokenizers = ["CLIPTokenizer", "CLIPTokenizerFast"];

    private static readonly ComponentSlot[] Sd =
    [
        new("unet", ComponentKind.UNet, "diffusers", ["UNet2DConditionModel"]),
        new("vae", ComponentKind.Vae, "diffusers", ["AutoencoderKL"]),
        new("text_encoder", ComponentKind.TextEncoder, "transformers", ["CLIPTextModel"]),
        new("tokenizer", ComponentKind.Tokenizer, "transformers", Tokenizers),
        new("scheduler", ComponentKind.Scheduler, "diffusers", []),
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
                new("text_encoder_2", ComponentKind.TextEncoderWithProjection, "transformers", ["CLIPTextModelWithProjection"]),
                new("tokenizer_2", ComponentKind.Tokenizer, "transformers", Tokenizers),
            ],
            ["feature_extractor", "image_encoder"], [ForceZerosForEmptyPrompt]),
    ];

    public static string Supported => string.Join(", ", All.Select(d => d.ClassName));

    public static PipelineDefinition? Find(string className) => All.FirstOrDefault(d => d.ClassName == className);

    public string ComponentNames => string.Join(", ", Components.Select(c => c.Name));
}
