using System.Text;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// A file of prompts, UTF-8: one prompt per line (blank lines skipped), or a tab-separated table whose header has a
/// <c>Prompt</c> column (PartiPrompts' layout: <c>Prompt Category Challenge Note</c>), told apart by a tab in the first line.
/// </summary>
public static class PromptFile
{
    public const string PromptColumn = "Prompt";

    /// <summary>The prompts in file order; a missing file, invalid UTF-8, a table without a <c>Prompt</c> column or no prompt at all is an input error.</summary>
    public static IReadOnlyList<string> Read(string path)
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
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var prompts = lines.Count > 0 && lines[0].Contains('\t') ? FromTable(path, lines) : lines.Where(l => l.Trim().Length > 0).ToList();
        if (prompts.Count == 0)
            throw new InputException($"prompt file '{path}' holds no prompt (one per line, or a tab-separated table with a '{PromptColumn}' column).");
        return prompts;
    }

    private static List<string> FromTable(string path, List<string> lines)
    {
        var header = lines[0].Split('\t');
        int column = Array.IndexOf(header, PromptColumn);
        if (column < 0)
            throw new InputException($"prompt file '{path}' is a tab-separated table without a '{PromptColumn}' column (its header: {string.Join(", ", header)}).");
        var prompts = new List<string>();
        for (int i = 1; i < lines.Count; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var cells = lines[i].Split('\t');
            if (column < cells.Length && cells[column].Trim().Length > 0) prompts.Add(cells[column]);
        }
        return prompts;
    }
}
