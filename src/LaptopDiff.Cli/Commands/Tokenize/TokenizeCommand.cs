using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands.Tokenize;

/// <summary><c>laptop-diff tokenize --model DIR [--tokenizer tokenizer_2] --prompt P [--json]</c>: a prompt's ids as the pipeline feeds them.</summary>
public static class TokenizeCommand
{
    private static readonly PipelineModelOptions Model = new();
    private static readonly Option<string> TokenizerOption = new("--tokenizer") { Description = "The tokenizer component: tokenizer, or SDXL's tokenizer_2", DefaultValueFactory = _ => "tokenizer" };
    private static readonly Option<string> PromptOption = new("--prompt") { Description = "The prompt", Required = true };
    private static readonly JsonOption JsonOption = CommonOptions.Json("{\"ids\": [...]}: start token, BPE ids, end token, truncated to the tokenizer's length, unpadded");

    private const string Details = """
        A prompt's CLIP token ids as the pipeline feeds them: the start token, the byte-level BPE ids of the
        cleaned, lower-cased text, the end token, truncated to the tokenizer's 77 keeping the end token,
        unpadded; a warning on stderr names the words cut.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("tokenize", "Print a prompt's CLIP token ids as the pipeline uses them", Details) { TokenizerOption, PromptOption, JsonOption };
        Model.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var folder = PipelineFolder.OpenStructure(parse.GetValue(Model.Model)!.FullName, parse.GetValue(Model.Variant));
            var name = parse.GetValue(TokenizerOption)!;
            var component = folder.Components.FirstOrDefault(c => c.Name == name && c.Kind == ComponentKind.Tokenizer)
                ?? throw new OptionValueException($"--tokenizer '{name}' is not a tokenizer of this {folder.ClassName} (it has {string.Join(", ", folder.Components.Where(c => c.Kind == ComponentKind.Tokenizer).Select(c => c.Name))})");
            if (!component.FolderExists) throw new PipelineException($"component '{name}' ({component.ClassName}): its folder {component.Folder} does not exist.");
            var tokenizer = ClipTokenizer.Load(component.Folder);
            var prompt = parse.GetValue(PromptOption)!;
            var encoded = tokenizer.Encode(prompt);
            if (encoded.Truncated)
                context.Error.WriteLine($"warning: the following part of your input was truncated because CLIP can only handle sequences up to {tokenizer.MaxLength} tokens " +
                                        $"({encoded.UntruncatedLength} given): {tokenizer.Decode(encoded.RemovedIds)}");
            context.Out.WriteLine(parse.GetValue(JsonOption)
                ? JsonSerializer.Serialize(new { ids = encoded.Ids })
                : string.Join(" ", encoded.Ids));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
