using System.CommandLine;
using LaptopDiff.Cli.Commands.Generate;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.EncodePrompt;

/// <summary><c>laptop-diff encode-prompt --model DIR --prompt P... [--prompts FILE] [--clip-skip K] --output E.safetensors</c>.</summary>
public static class EncodePromptCommand
{
    public const string PromptEmbedsTensor = "prompt_embeds";
    public const string PooledTensor = "pooled_prompt_embeds";

    private static readonly PipelineModelOptions Model = new();
    private static readonly PromptInputs Prompts = new();
    private static readonly Option<int?> ClipSkipOption = new("--clip-skip") { Description = "diffusers' clip_skip: text encoder layers skipped from the end" };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("E.safetensors: 'prompt_embeds' [N,77,D] (the U-Net's encoder_hidden_states) and, for SDXL, 'pooled_prompt_embeds' [N,P] (its text_embeds)");
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the text encoders");

    private const string Details = """
        What the U-Net is conditioned on, as diffusers' encode_prompt computes it: SD, the text encoder's
        last hidden state (or the clip_skip layer through the final LayerNorm); SDXL, both encoders'
        penultimate hidden states concatenated, and text_encoder_2's pooled projection.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("encode-prompt", "Encode prompts into the U-Net's conditioning tensors", Details) { ClipSkipOption, OutputOption, ThreadsOption, DeviceOption };
        Model.AddTo(command);
        Prompts.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var prompts = Prompts.Read(parse);
            var output = parse.GetValue(OutputOption)!.FullName;
            if (!output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new OptionValueException($"--output {output}: encode-prompt writes a .safetensors file");
            var folder = Model.Open(parse);
            var dir = Path.GetDirectoryName(output);
            if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");

            using var encoder = PromptEncoder.Load(folder).MoveTo(DeviceOption.Read(parse));
            using var embeddings = encoder.Encode(prompts, parse.GetValue(ClipSkipOption));
            foreach (var line in GenerateCommand.TruncationWarnings(embeddings.Truncations, prompts.Count)) context.Error.WriteLine(line);
            var tensors = new List<KeyValuePair<string, Tensor>> { KeyValuePair.Create(PromptEmbedsTensor, embeddings.PromptEmbeds) };
            if (embeddings.PooledPromptEmbeds is { } pooled) tensors.Add(KeyValuePair.Create(PooledTensor, pooled));
            SafetensorsFile.Save(output, tensors);
            context.Out.WriteLine($"wrote {output}: {string.Join(", ", tensors.Select(t => $"{t.Key} [{string.Join(",", t.Value.shape)}]"))}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
