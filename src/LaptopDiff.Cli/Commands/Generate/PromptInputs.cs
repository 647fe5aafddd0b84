using System.CommandLine;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands.Generate;

/// <summary>
/// <c>--prompt P</c> (repeatable) and <c>--prompts FILE</c> (UTF-8, one prompt per line or a TSV with a Prompt column): the
/// prompts of one batch, <c>--prompt</c> values first. One instance per command.
/// </summary>
public sealed class PromptInputs
{
    public readonly Option<string[]> Prompt = new("--prompt") { Description = "A prompt; repeat for several (one image each)" };
    public readonly Option<FileInfo?> PromptsFile = new("--prompts") { Description = "A UTF-8 file of prompts: one per line (blank lines skipped), or a tab-separated table with a Prompt column (PartiPrompts.tsv)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Prompt);
        command.Options.Add(PromptsFile);
    }

    /// <summary>Every prompt; none at all is a usage error (exit 1), an unreadable file an input error (exit 2).</summary>
    public IReadOnlyList<string> Read(ParseResult parse)
    {
        var prompts = new List<string>(parse.GetValue(Prompt) ?? []);
        if (parse.GetValue(PromptsFile) is { } file) prompts.AddRange(ReadFile(file.FullName));
        if (prompts.Count == 0) throw new UsageException("give at least one prompt: --prompt P (repeatable) or --prompts FILE.");
        return prompts;
    }

    public static IReadOnlyList<string> ReadFile(string path) => PromptFile.Read(path);
}
