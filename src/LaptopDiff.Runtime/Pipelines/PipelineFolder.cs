using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// A diffusers pipeline folder (<c>model_index.json</c> plus one folder per component) of a pipeline class LaptopDiff
/// runs, checked when opened: the pipeline class, every component's class, the component folders and their configs,
/// the options, and each model's weight files (headers only; a folder may hold none, see <see cref="ComponentWeights"/>).
/// Nothing is loaded: components expose their config path and weights for the code that builds them.
/// </summary>
public sealed class PipelineFolder
{
    private readonly IReadOnlyDictionary<string, PipelineComponent> _byName;

    private PipelineFolder(string directory, ModelIndex index, PipelineDefinition definition, string? variant,
        IReadOnlyList<PipelineComponent> components, IReadOnlyList<UnusedComponent> unused)
    {
        Directory = directory;
        ModelIndexPath = index.Path;
        ClassName = index.ClassName;
        DiffusersVersion = index.DiffusersVersion;
        Kind = definition.Kind;
        Variant = variant;
        Components = components;
        Unused = unused;
        _byName = components.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var options = index.Options.ToDictionary(o => o.Key, o => o.Value.GetBoolean(), StringComparer.Ordinal);
        // diffusers' defaults when the option is absent; the other kind has no such behaviour at all.
        RequiresSafetyChecker = Kind == PipelineKind.StableDiffusion && options.GetValueOrDefault(PipelineDefinition.RequiresSafetyChecker, true);
        ForceZerosForEmptyPrompt = Kind == PipelineKind.StableDiffusionXL && options.GetValueOrDefault(PipelineDefinition.ForceZerosForEmptyPrompt, true);
    }

    /// <summary>The folder, as a full path.</summary>
    public string Directory { get; }
    public string ModelIndexPath { get; }
    /// <summary><c>_class_name</c>: <c>StableDiffusionPipeline</c> or <c>StableDiffusionXLPipeline</c>.</summary>
    public string ClassName { get; }
    public PipelineKind Kind { get; }
    public string? DiffusersVersion { get; }
    /// <summary>The weight variant asked for (e.g. <c>fp16</c>), or null for the default files.</summary>
    public string? Variant { get; }
    /// <summary>The components LaptopDiff uses, in the pipeline class's order (unet, vae, text_encoder, tokenizer, scheduler[, text_encoder_2, tokenizer_2]).</summary>
    public IReadOnlyList<PipelineComponent> Components { get; }
    /// <summary>Optional components listed with a class that LaptopDiff never reads (e.g. <c>safety_checker</c>).</summary>
    public IReadOnlyList<UnusedComponent> Unused { get; }

    /// <summary>SD: the folder asks for a safety checker (diffusers' default true); LaptopDiff runs none. False for SDXL.</summary>
    public bool RequiresSafetyChecker { get; }
    /// <summary>SDXL: without a negative prompt, guide against zero embeddings (diffusers' default true). False for SD.</summary>
    public bool ForceZerosForEmptyPrompt { get; }

    public PipelineComponent UNet => this["unet"];
    public PipelineComponent Vae => this["vae"];
    public PipelineComponent TextEncoder => this["text_encoder"];
    public PipelineComponent Tokenizer => this["tokenizer"];
    public PipelineComponent Scheduler => this["scheduler"];
    /// <summary>SDXL's second text encoder (<c>CLIPTextModelWithProjection</c>); null for SD.</summary>
    public PipelineComponent? TextEncoder2 => _byName.GetValueOrDefault("text_encoder_2");
    /// <summary>SDXL's second tokenizer; null for SD.</summary>
    public PipelineComponent? Tokenizer2 => _byName.GetValueOrDefault("tokenizer_2");

    public PipelineComponent this[string name] => _byName.TryGetValue(name, out var c) ? c
        : throw new KeyNotFoundException($"a {ClassName} has no component '{name}' (it has {string.Join(", ", _byName.Keys)})");

    /// <summary>
    /// Opens a folder to run it: every component's folder must exist. <paramref name="variant"/> picks weight files such as
    /// <c>diffusion_pytorch_model.fp16.safetensors</c>; a model folder without that variant is an error.
    /// </summary>
    public static PipelineFolder Open(string directory, string? variant = null) => Read(directory, variant, needsTokenizers: true);

    /// <summary>
    /// Opens a folder to inspect its structure: as <see cref="Open"/>, but tokenizer folders may be absent (as in
    /// config-only copies of a model); models without weight files are fine in both.
    /// </summary>
    public static PipelineFolder OpenStructure(string directory, string? variant = null) => Read(directory, variant, needsTokenizers: false);

    /// <summary>The U-Net's structure from its <c>config.json</c>, named after the pipeline folder (e.g. <c>TinySd15PipeUNet</c>).</summary>
    public UNetSpec ImportUNetSpec() =>
        DiffusersConfigImporter.ImportFile(UNet.ConfigPath!, DiffusersConfigImporter.NameFromFile(Path.GetFileName(Directory)));

    public UNetLayout BuildUNetLayout() => LayoutBuilder.BuildOrThrow(ImportUNetSpec(), UNet.ConfigPath!);

    /// <summary>The U-Net built from its config and loaded strictly from its weight files (float32 whatever the files hold).</summary>
    public UNet2DCondition LoadUNet()
    {
        var weights = UNet.Weights!.Require();
        var model = new UNet2DCondition(BuildUNetLayout());
        try { WeightLoader.Load(model, weights); }
        catch { model.Dispose(); throw; }
        return model;
    }

    private static PipelineFolder Read(string directory, string? variant, bool needsTokenizers)
    {
        var dir = Path.GetFullPath(directory);
        CheckIsPipelineFolder(dir);
        var index = ModelIndex.Read(Path.Combine(dir, ModelIndex.FileName));
        var definition = PipelineDefinition.Find(index.ClassName) ?? throw UnknownPipeline(index);
        var unused = CheckComponents(index, definition);
        CheckOptions(index, definition);

        var components = new List<PipelineComponent>();
        foreach (var slot in definition.Components)
        {
            var declared = index.Components.First(c => c.Key == slot.Name).Value!;
            var folder = Path.Combine(dir, slot.Name);
            bool exists = System.IO.Directory.Exists(folder);
            if (!exists && (slot.Kind != ComponentKind.Tokenizer || needsTokenizers))
                throw new PipelineException($"component '{slot.Name}' ({declared.ClassName}) is listed in {ModelIndex.FileName} but the folder {folder} does not exist.");
            if (exists && slot.Kind == ComponentKind.Tokenizer && needsTokenizers) CheckTokenizerFiles(slot.Name, declared.ClassName, folder);
            var component = new PipelineComponent(slot.Name, slot.Kind, declared.Library, declared.ClassName, folder, exists, null);
            if (component.ConfigPath is { } config && !File.Exists(config))
                throw new PipelineException($"component '{slot.Name}' ({declared.ClassName}): its config {config} does not exist.");
            if (component.IsModel)
                component = component with { Weights = ComponentWeights.Resolve(folder, WeightsBaseName(declared.Library), variant) };
            components.Add(component);
        }
        return new PipelineFolder(dir, index, definition, variant, components, unused);
    }

    // Both CLIP tokenizer classes save vocab.json and merges.txt; a fast tokenizer saved as tokenizer.json alone is not read.
    private static void CheckTokenizerFiles(string name, string className, string folder)
    {
        var missing = TokenizerFiles.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        if (missing.Count == 0) return;
        var onlyJson = File.Exists(Path.Combine(folder, "tokenizer.json")) ? " (it has tokenizer.json, which LaptopDiff does not read)" : "";
        throw new PipelineException($"component '{name}' ({className}): its folder {folder} has no {string.Join(" or ", missing)}{onlyJson}; " +
                                    $"LaptopDiff reads CLIP's tokenizer from {string.Join(" and ", TokenizerFiles)}, as transformers' save_pretrained writes them.");
    }

    private static readonly string[] TokenizerFiles = ["vocab.json", "merges.txt"];

    private static string WeightsBaseName(string library) =>
        library == "transformers" ? ComponentWeights.TransformersBaseName : ComponentWeights.DiffusersBaseName;

    private static void CheckIsPipelineFolder(string dir)
    {
        if (File.Exists(dir))
        {
            var hint = PickledWeights.IsPickled(dir) ? " " + PickledWeights.Advice
                : dir.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                    ? " Single-file checkpoints are not read: save the model as a diffusers folder first (diffusers: `from_single_file(path).save_pretrained(dir)`)."
                    : "";
            throw new PipelineException($"'{dir}' is a file, not a pipeline folder ({ModelIndex.FileName} plus one folder per component).{hint}");
        }
        if (!System.IO.Directory.Exists(dir)) throw new PipelineException($"pipeline folder '{dir}' does not exist.");
        if (File.Exists(Path.Combine(dir, ModelIndex.FileName))) return;
        var hintText = File.Exists(Path.Combine(dir, "config.json"))
            ? " It holds a config.json: it looks like one component's folder; give the pipeline folder that contains it."
            : "";
        throw new PipelineException($"'{dir}' has no {ModelIndex.FileName}, so it is not a diffusers pipeline folder.{hintText}");
    }

    private static PipelineException UnknownPipeline(ModelIndex index)
    {
        var refiner = index.ClassName == "StableDiffusionXLImg2ImgPipeline"
            ? " (an SDXL refiner folder is a StableDiffusionXLImg2ImgPipeline; LaptopDiff does not run refiners)"
            : "";
        return new PipelineException($"{index.Path}: pipeline class '{index.ClassName}' is not supported{refiner}; " +
                                     $"LaptopDiff reads {PipelineDefinition.Supported}.");
    }

    /// <summary>Every listed component is one the class has, of a class LaptopDiff can build; returns the unused optional ones.</summary>
    private static List<UnusedComponent> CheckComponents(ModelIndex index, PipelineDefinition definition)
    {
        var unused = new List<UnusedComponent>();
        foreach (var (name, declared) in index.Components)
        {
            var slot = definition.Components.FirstOrDefault(s => s.Name == name);
            if (slot is null)
            {
                if (!definition.Unused.Contains(name)) throw NotInPipeline(index, definition, name);
                if (declared is not null) unused.Add(new UnusedComponent(name, declared.Library, declared.ClassName));
                continue;
            }
            if (declared is null)
            {
                var refiner = slot.Name is "text_encoder" or "tokenizer" && definition.Kind == PipelineKind.StableDiffusionXL
                    ? " Folders without the first text encoder (as SDXL refiners are saved) are not supported."
                    : "";
                throw new PipelineException($"{index.Path}: component '{name}' is [null, null], but a {definition.ClassName} needs it ({slot.Expected}).{refiner}");
            }
            if (!slot.Accepts(declared.Library, declared.ClassName))
                throw new PipelineException($"{index.Path}: component '{name}' is {declared}, which LaptopDiff does not support there; expected {slot.Expected}.");
        }
        var missing = definition.Components.Where(s => index.Components.All(c => c.Key != s.Name)).Select(s => s.Name).ToList();
        if (missing.Count > 0)
            throw new PipelineException($"{index.Path} lists no component '{missing[0]}'; a {definition.ClassName} needs {definition.ComponentNames}.");
        return unused;
    }

    private static void CheckOptions(ModelIndex index, PipelineDefinition definition)
    {
        foreach (var (name, value) in index.Options)
        {
            if (definition.Components.Any(s => s.Name == name))
                throw new PipelineException($"{index.Path}: component '{name}' is {value.GetRawText()}, expected [library, class].");
            if (!definition.Options.Contains(name)) throw NotInPipeline(index, definition, name);
            if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new PipelineException($"{index.Path}: option '{name}' is {value.GetRawText()}, expected true or false.");
        }
    }

    private static PipelineException NotInPipeline(ModelIndex index, PipelineDefinition definition, string name) =>
        new($"{index.Path}: '{name}' is not a component or option of {definition.ClassName} that LaptopDiff knows " +
            $"(components: {definition.ComponentNames}, optional and unused: {string.Join(", ", definition.Unused)}; " +
            $"options: {string.Join(", ", definition.Options)}).");
}
