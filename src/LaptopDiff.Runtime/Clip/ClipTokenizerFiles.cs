using System.Text;
using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Clip;

/// <summary>What a transformers <c>CLIPTokenizer</c> folder declares besides its vocabulary and merges.</summary>
internal sealed record ClipTokenizerSettings(int MaxLength, string BosToken, string EosToken, string PadToken);

/// <summary>
/// Reads a tokenizer folder as transformers saves it (<c>vocab.json</c>, <c>merges.txt</c>,
/// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>) and checks that the files belong together,
/// so a missing, truncated or mismatched file is an <see cref="InputException"/> naming it and the line.
/// </summary>
internal static class ClipTokenizerFiles
{
    public const string VocabularyFile = "vocab.json";
    public const string MergesFile = "merges.txt";
    public const string ConfigFile = "tokenizer_config.json";
    public const string SpecialTokensFile = "special_tokens_map.json";

    // CLIPTokenizer's defaults, and CLIP's context length where tokenizer_config.json gives none.
    private const int DefaultMaxLength = 77;
    private const string DefaultBos = "<|startoftext|>", DefaultEos = "<|endoftext|>";

    public static Dictionary<string, int> ReadVocabulary(string folder)
    {
        var path = Required(folder, VocabularyFile);
        var text = ReadUtf8(path);
        Dictionary<string, int>? vocabulary;
        try
        {
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(text);
        }
        catch (JsonException e)
        {
            throw new InputException($"tokenizer vocabulary '{path}' is not a JSON object of token ids at line {e.LineNumber + 1}, " +
                $"byte {e.BytePositionInLine + 1}: {e.Message} Restore the file from the model's source.");
        }
        if (vocabulary is null || vocabulary.Count == 0) throw new InputException($"tokenizer vocabulary '{path}' holds no tokens.");
        var byId = new Dictionary<int, string>();
        foreach (var (token, id) in vocabulary)
        {
            if (id < 0 || id >= vocabulary.Count)
                throw new InputException($"tokenizer vocabulary '{path}': token '{token}' has id {id}, outside 0..{vocabulary.Count - 1}.");
            if (!byId.TryAdd(id, token))
                throw new InputException($"tokenizer vocabulary '{path}': tokens '{byId[id]}' and '{token}' share id {id}.");
        }
        return vocabulary;
    }

    /// <summary>
    /// The merges in rank order ("left right" per line, an optional <c>#version</c> first line). Every symbol
    /// and every merged pair must be a vocabulary token, and every vocabulary token must be a byte symbol, a
    /// merge result or a special token: a file cut at a line end leaves tokens no merge can produce.
    /// </summary>
    public static List<string> ReadMerges(string folder, IReadOnlyDictionary<string, int> vocabulary, IEnumerable<string> specialTokens)
    {
        var path = Required(folder, MergesFile);
        var lines = ReadUtf8(path).Split('\n');
        var merges = new List<string>(lines.Length);
        var produced = new HashSet<string>(StringComparer.Ordinal);
        int lastLine = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            int lineNumber = i + 1;
            if (i == 0 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0)
            {
                if (lines.Skip(i + 1).Any(l => l.TrimEnd('\r').Length > 0))
                    throw new InputException($"tokenizer merges '{path}' line {lineNumber} is empty; every line must hold one merge.");
                continue;
            }
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InputException($"tokenizer merges '{path}' line {lineNumber}: '{line}' is not a merge (two symbols separated by one space); the file may be truncated or corrupt.");
            foreach (var symbol in parts.Append(parts[0] + parts[1]))
                if (!vocabulary.ContainsKey(symbol))
                    throw new InputException($"tokenizer merges '{path}' line {lineNumber}: '{symbol}' is not a token of {VocabularyFile}; the two files do not belong together.");
            produced.Add(parts[0] + parts[1]);
            merges.Add(line);
            lastLine = lineNumber;
        }
        var specials = specialTokens.ToHashSet(StringComparer.Ordinal);
        var unreachable = vocabulary.Keys.Where(t => !produced.Contains(t) && !specials.Contains(t) && !IsByteSymbol(t)).ToList();
        if (unreachable.Count > 0)
            throw new InputException($"tokenizer merges '{path}' ends at line {lastLine} with {merges.Count} merges, but {unreachable.Count} tokens of " +
                $"{VocabularyFile} (e.g. '{unreachable[0]}') come from no merge: the merges file looks truncated, or the files do not belong together.");
        return merges;
    }

    /// <summary>The special tokens and length limit; <c>special_tokens_map.json</c> overrides <c>tokenizer_config.json</c>, as in transformers.</summary>
    public static ClipTokenizerSettings ReadSettings(string folder)
    {
        var config = ReadJsonObject(Path.Combine(folder, ConfigFile));
        var map = ReadJsonObject(Path.Combine(folder, SpecialTokensFile));
        var configPath = Path.Combine(folder, ConfigFile);
        if (config is { } c && c.TryGetProperty("tokenizer_class", out var cls) && cls.GetString() is { } name
            && name is not ("CLIPTokenizer" or "CLIPTokenizerFast"))
            throw new DiffusersConfigException(configPath, "tokenizer_class", $"unsupported value '{name}': only CLIP's byte-level BPE tokenizer is implemented");
        string Token(string key, string fallback) =>
            TokenText(map, key, Path.Combine(folder, SpecialTokensFile)) ?? TokenText(config, key, configPath) ?? fallback;
        return new ClipTokenizerSettings(MaxLength(config, configPath), Token("bos_token", DefaultBos), Token("eos_token", DefaultEos), Token("pad_token", DefaultEos));
    }

    private static int MaxLength(JsonElement? config, string path)
    {
        if (config is not { } c || !c.TryGetProperty("model_max_length", out var v) || v.ValueKind == JsonValueKind.Null) return DefaultMaxLength;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int length) && length >= 2) return length;
        throw new DiffusersConfigException(path, "model_max_length", $"unsupported value {v.GetRawText()}: expected the text encoder's context length (77 for CLIP)");
    }

    // A token is written as a string or as transformers' AddedToken object {"content": ...}.
    private static string? TokenText(JsonElement? root, string key, string path)
    {
        if (root is not { } r || !r.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            return content.GetString();
        throw new DiffusersConfigException(path, key, $"unsupported value {v.GetRawText()}: expected a token string or an object with 'content'");
    }

    private static JsonElement? ReadJsonObject(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(ReadUtf8(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InputException($"tokenizer file '{path}' is not a JSON object.");
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InputException($"tokenizer file '{path}' is not valid JSON at line {e.LineNumber + 1}: {e.Message}");
        }
    }

    private static string Required(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        if (!File.Exists(path))
            throw new InputException($"tokenizer folder '{folder}' has no {name}: a CLIP tokenizer needs {VocabularyFile} and {MergesFile} as transformers saves them.");
        return path;
    }

    // Files must be UTF-8: a replacement character silently changes tokens, so invalid bytes are an error with their line.
    private static string ReadUtf8(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\ufeff');
        }
        catch (DecoderFallbackException e)
        {
            int line = 1 + bytes.AsSpan(0, Math.Clamp(e.Index, 0, bytes.Length)).Count((byte)'\n');
            throw new InputException($"tokenizer file '{path}' line {line} is not valid UTF-8; restore the file from the model's source.");
        }
    }

    // The 256 byte symbols of byte-level BPE, alone or word-final: the vocabulary's first 512 tokens.
    private static bool IsByteSymbol(string token) =>
        token.Length == 1 || (token.Length == 5 && token.EndsWith(ClipBpe.EndOfWord, StringComparison.Ordinal));
}
