using System.CommandLine;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands;

/// <summary>
/// <c>--model DIR [--variant fp16]</c>: the diffusers pipeline folder the text-to-image commands (generate, tokenize,
/// encode-prompt, inspect, bench pipeline) read. One instance per command, since an option belongs to one command.
/// </summary>
public sealed class PipelineModelOptions(bool required = true)
{
    public readonly Option<DirectoryInfo> Model = new("--model")
    {
        Description = "A diffusers pipeline folder (model_index.json + unet/, vae/, text_encoder/, tokenizer/, scheduler/; SDXL also text_encoder_2/, tokenizer_2/)",
        Required = required,
    };
    public readonly Option<string?> Variant = new("--variant") { Description = "Weight file variant, e.g. fp16 for diffusion_pytorch_model.fp16.safetensors (default: the plain files)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Variant);
    }

    /// <summary>Opens the folder to run it (every component folder must exist).</summary>
    public PipelineFolder Open(ParseResult parse) => PipelineFolder.Open(parse.GetValue(Model)!.FullName, parse.GetValue(Variant));
}
