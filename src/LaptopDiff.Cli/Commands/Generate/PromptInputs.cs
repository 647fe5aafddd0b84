using System.CommandLine;
using System.Text;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Cli.Commands.Generate;

/// <summary>
/// <c>--prompt P</c> (repeatable) and <c>--prompts FILE</c> (UTF-8, one prompt per line, blank lines skipped): the
/// prompts of one batch, <c>--prompt</c> values first. One instance per command.
/// </summary>
public sealed class PromptInputs
{
    public readonly Option<string[]> Prompt = new("--prompt") { Description = "A prompt; repeat for several (one image each)" };
    public readonly Option<FileInfo?> PromptsFile = new("--prompts") { Description = "A UTF-8 text file of prompts, one per line (blank lines skipped)" };

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

    public static IReadOnlyList<string> ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"prompt file not found: {path}", path);
        var bytes = File.ReadAllBytes(path);
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\ufeff');
        }
        catch (DecoderFallbackException e)
        {
            int line = 1 + bytes.AsSpan(0, Math.Clamp(e.Index, 0, bytes.Length)).Count((byte)'\n');
            throw new InputException($"prompt file '{path}' line {line} is not valid UTF-8; save the file as UTF-8.");
        }
        var prompts = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();
        if (prompts.Count == 0) throw new InputException($"prompt file '{path}' holds no prompt (one per line).");
        return prompts;
    }
}
