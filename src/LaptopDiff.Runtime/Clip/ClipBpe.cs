using Microsoft.ML.Tokenizers;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// CLIP's byte-level BPE on Microsoft.ML.Tokenizers: each piece from <see cref="ClipPreTokenizer"/> becomes
/// UTF-8 bytes mapped to GPT-2's printable byte symbols, its last symbol takes the <c>&lt;/w&gt;</c>
/// end-of-word suffix, and the lowest-ranked merge is applied until none is left; the library caches each
/// piece's result. Special-token pieces map straight to their ids.
/// </summary>
internal sealed class ClipBpe
{
    public const string EndOfWord = "</w>";

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<int, string> _tokens;
    private static readonly Dictionary<char, byte> ByteOfSymbol = ByteSymbols();

    public ClipBpe(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<string> merges, IReadOnlyDictionary<string, int> specialTokens)
    {
        _tokens = vocabulary.ToDictionary(t => t.Value, t => t.Key);
        _bpe = BpeTokenizer.Create(new BpeOptions(vocabulary)
        {
            Merges = merges,
            SpecialTokens = specialTokens,
            ByteLevel = true,
            EndOfWordSuffix = EndOfWord,
            PreTokenizer = ClipPreTokenizer.Instance,
        });
    }

    /// <summary>
    /// Ids of text already cleaned by <see cref="ClipTextCleaner"/>, without start and end tokens (the caller adds
    /// them: the library's own <c>BeginningOfSentenceToken</c> option leaves them out of an empty text's ids).
    /// </summary>
    public IReadOnlyList<int> Encode(string cleanedText) =>
        _bpe.EncodeToIds(cleanedText, considerPreTokenization: true, considerNormalization: false);

    /// <summary>
    /// Text of <paramref name="ids"/> as transformers' CLIPTokenizer decodes it: the tokens joined, each end-of-word suffix a
    /// space, byte symbols back to bytes read as UTF-8 (invalid sequences become U+FFFD), trimmed. (The library's own decoder
    /// drops the suffix without a space.)
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            var token = _tokens.TryGetValue(id, out var t) ? t : throw new ArgumentOutOfRangeException(nameof(ids), id, "not an id of the vocabulary");
            bool wordEnd = token.EndsWith(EndOfWord, StringComparison.Ordinal);
            foreach (var symbol in wordEnd ? token[..^EndOfWord.Length] : token)
                if (ByteOfSymbol.TryGetValue(symbol, out byte b)) bytes.Add(b);
                else bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(symbol.ToString()));   // special tokens are plain text
            if (wordEnd) bytes.Add((byte)' ');
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray()).Trim();
    }

    // GPT-2's printable stand-ins for the 256 byte values: printable Latin-1 maps to itself, the rest to U+0100 onwards.
    private static Dictionary<char, byte> ByteSymbols()
    {
        var map = new Dictionary<char, byte>();
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[(char)(printable ? b : 256 + next++)] = (byte)b;
        }
        return map;
    }
}
