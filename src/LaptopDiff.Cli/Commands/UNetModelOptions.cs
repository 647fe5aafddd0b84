using System.CommandLine;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands;

/// <summary>A U-Net named on the command line: its spec file, its weights (null when the command did not need them) and the pipeline folder it came from, if any.</summary>
public sealed record NamedUNet(string SpecPath, string? WeightsPath, PipelineFolder? Folder);

/// <summary>
/// How the pruning, distillation and evaluation commands name their (teacher) U-Net: <c>--model DIR [--variant V]</c>, a
/// pipeline folder whose <c>unet/config.json</c> and weights are the spec and weights, or the spec and weights options
/// (<c>--spec</c>/<c>--weights</c>, distill's <c>--teacher-spec</c>/<c>--teacher-weights</c>). Both ways at once is a usage
/// error (exit 1). One instance per command.
/// </summary>
public sealed class UNetModelOptions
{
    public readonly Option<DirectoryInfo> Model;
    public readonly Option<string?> Variant = new("--variant") { Description = "With --model: weight file variant, e.g. fp16 (default: the plain files)" };
    public readonly Option<FileInfo> Spec;
    public readonly Option<FileInfo?> Weights;

    public UNetModelOptions(Option<FileInfo> spec, string weightsName = "--weights", string weightsDescription = "Teacher weights (.safetensors, diffusers key names)")
    {
        Spec = spec;
        Spec.Required = false;
        Spec.Description += "; or --model DIR";
        Model = CommonOptions.Model(CommonOptions.PipelineFolderDescription + $": its unet/config.json and weights replace {Spec.Name} and {weightsName}", required: false);
        Weights = new Option<FileInfo?>(weightsName) { Description = weightsDescription + "; or --model DIR" };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Variant);
        command.Options.Add(Spec);
        command.Options.Add(Weights);
    }

    /// <summary>
    /// The U-Net the command line names. <paramref name="weightsRequired"/>: the spec-and-weights form must give both
    /// (else weights are optional). A pipeline folder's sharded U-Net weights are refused (these commands read one file).
    /// </summary>
    public NamedUNet Resolve(ParseResult parse, bool weightsRequired = true)
    {
        var model = parse.GetValue(Model);
        var spec = parse.GetValue(Spec);
        var weights = parse.GetValue(Weights);
        if (model is not null)
        {
            if (spec is not null || weights is not null)
                throw new UsageException($"--model and {(spec is not null ? Spec.Name : Weights.Name)} do not go together: the pipeline's unet/config.json and weights are the model.");
            var folder = PipelineFolder.Open(model.FullName, parse.GetValue(Variant));
            var files = folder.UNet.Weights!.Require();
            if (files.IsSharded)
                throw new InputException($"{folder.UNet.Folder}: the U-Net's weights are sharded ({files.Path}); this command reads one .safetensors file. " +
                                         "Save the U-Net unsharded (diffusers: unet.save_pretrained(dir, max_shard_size=\"100GB\")).");
            return new NamedUNet(folder.UNetSpecPath, files.Path, folder);
        }
        if (parse.GetValue(Variant) is not null) throw new UsageException("--variant goes with --model");
        if (spec is null) throw new UsageException($"name the model: --model DIR (a pipeline folder), or {Spec.Name} S{(weightsRequired ? $" with {Weights.Name} W" : "")}");
        if (weightsRequired && weights is null) throw new UsageException($"{Spec.Name} needs {Weights.Name} (or name the model with --model DIR)");
        return new NamedUNet(spec.FullName, weights?.FullName, null);
    }
}
