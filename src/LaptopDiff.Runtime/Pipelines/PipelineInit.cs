using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>What <c>laptop-diff init-pipeline</c> assembles.</summary>
public sealed record PipelineInitRequest
{
    /// <summary>A pipeline folder whose structure is used: model_index.json, the models' configs, tokenizer and scheduler files (its weights are not).</summary>
    public required string StructureDir { get; init; }
    /// <summary>Model components taken whole (config and weights) from other folders, by component name (e.g. <c>vae</c> -> a trained VAE's folder).</summary>
    public IReadOnlyDictionary<string, string> From { get; init; } = new Dictionary<string, string>();
    /// <summary>Seed of the fresh weights of every other model component.</summary>
    public long Seed { get; init; }
    public required string OutputDir { get; init; }
}

/// <summary>
/// Assembles a complete Stable Diffusion folder to train from: the structure folder's model_index.json, tokenizer and
/// scheduler files, each model component either copied from a given folder or built from the structure's config with
/// seeded fresh weights (U-Net with the seed and VAE with seed + 2 by <see cref="SeededInitialization"/>, PyTorch's
/// defaults; the text encoder with seed + 1 by <see cref="ClipTextInitialization"/>, transformers' CLIP scheme). Built
/// beside its final place and renamed when complete; an existing folder is never written into.
/// </summary>
public static class PipelineInit
{
    public static void Run(PipelineInitRequest request, Action<string>? log = null)
    {
        var structure = PipelineFolder.OpenStructure(request.StructureDir);
        if (structure.Kind != PipelineKind.StableDiffusion)
            throw new InputException($"'{structure.Directory}' is a {structure.ClassName}; only StableDiffusionPipeline folders are assembled, so far");
        foreach (var name in request.From.Keys)
            if (!structure.Components.Any(c => c.Name == name && c.IsModel))
                throw new InputException($"'{name}' is not a model component of '{structure.Directory}' (its models: {string.Join(", ", structure.Components.Where(c => c.IsModel).Select(c => c.Name))})");
        AtomicFolder.Write(request.OutputDir, temp =>
        {
            File.Copy(structure.ModelIndexPath, Path.Combine(temp, Path.GetFileName(structure.ModelIndexPath)));
            foreach (var component in structure.Components)
            {
                var dir = Directory.CreateDirectory(Path.Combine(temp, component.Name)).FullName;
                if (request.From.TryGetValue(component.Name, out var source))
                {
                    CopyModel(component, source, dir);
                    log?.Invoke($"{component.Name}: copied from {Path.GetFullPath(source)}");
                }
                else if (component.IsModel)
                {
                    File.Copy(component.ConfigPath!, Path.Combine(dir, "config.json"));
                    long paramCount = WriteSeeded(component, dir, request.Seed);
                    log?.Invoke($"{component.Name}: {paramCount:N0} parameters, seeded fresh weights");
                }
                else CopyFiles(component.Folder, dir);
            }
            PipelineFolder.Open(temp);                 // what was written opens as a pipeline
        });
    }

    private static long WriteSeeded(PipelineComponent component, string dir, long seed)
    {
        switch (component.Kind)
        {
            case ComponentKind.UNet:
            {
                var layout = LaptopDiff.Spec.LayoutBuilder.BuildOrThrow(
                    Diffusers.DiffusersConfigImporter.ImportFile(component.ConfigPath!, "UNet"), component.ConfigPath!);
                using var unet = new UNet2DCondition(layout);
                SeededInitialization.Apply(unet, seed);
                WeightLoader.Save(unet, Path.Combine(dir, ComponentWeights.DiffusersBaseName + ".safetensors"), Metadata(seed));
                return layout.TotalParamCount;
            }
            case ComponentKind.TextEncoder:
            {
                var config = ClipTextConfig.Load(component.ConfigPath!, withProjection: false);
                using var encoder = new ClipTextModel(config);
                ClipTextInitialization.Apply(encoder, seed + 1);
                WeightLoader.Save(encoder, Path.Combine(dir, ClipTextModel.WeightsFile), Metadata(seed + 1));
                return config.ParamCount;
            }
            case ComponentKind.Vae:
            {
                var config = Vae.VaeConfigReader.ReadFile(component.ConfigPath!);
                using var vae = new Vae.AutoencoderKL(config);
                SeededInitialization.Apply(vae, seed + 2);
                WeightLoader.Save(vae, Path.Combine(dir, ComponentWeights.DiffusersBaseName + ".safetensors"), Metadata(seed + 2));
                return config.ParamCount();
            }
            default:
                throw new InputException($"component '{component.Name}' ({component.ClassName}) cannot be built with fresh weights; give a folder to copy it from");
        }
    }

    private static IReadOnlyDictionary<string, string> Metadata(long seed) =>
        new Dictionary<string, string> { ["format"] = "pt", ["tool"] = "laptop-diff init-pipeline", ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    /// <summary>A model folder's config.json and weight files (the names the component's library uses), checked to exist.</summary>
    private static void CopyModel(PipelineComponent component, string source, string dir)
    {
        var config = Path.Combine(source, "config.json");
        if (!File.Exists(config)) throw new InputException($"'{Path.GetFullPath(source)}' has no config.json; give the folder of a {component.ClassName}");
        var baseName = component.Library == "transformers" ? ComponentWeights.TransformersBaseName : ComponentWeights.DiffusersBaseName;
        var weights = ComponentWeights.Resolve(source, baseName).Require();
        File.Copy(config, Path.Combine(dir, "config.json"));
        var files = weights.IsSharded ? [weights.Path, .. weights.Files.Select(f => f.Path)] : new[] { weights.Path };
        foreach (var file in files.Distinct()) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
    }

    private static void CopyFiles(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
