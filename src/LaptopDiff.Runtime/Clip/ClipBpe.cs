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

    public ClipBpe(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<string> merges, IReadOnlyDictionary<string, int> specialTokens)
    {
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
}
