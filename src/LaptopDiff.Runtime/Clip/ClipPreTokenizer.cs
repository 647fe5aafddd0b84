using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// Splits cleaned text into the pieces CLIP's BPE encodes one by one, as the pattern
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// finds them: at each position the first alternative that matches wins; white space is skipped.
/// Written out rather than as a .NET <c>Regex</c> because .NET classes match UTF-16 code units: a letter or
/// digit outside the Basic Multilingual Plane (U+1D400, U+20000, ...) would fall into the "other" run,
/// where Python's code-point classes see a letter. Plugged into Microsoft.ML.Tokenizers' BPE as its pre-tokenizer.
/// </summary>
public sealed class ClipPreTokenizer : PreTokenizer
{
    /// <summary>Token strings the pattern keeps whole; they map straight to their vocabulary ids.</summary>
    public static readonly IReadOnlyList<string> SpecialTokens = ["<|startoftext|>", "<|endoftext|>"];

    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    private enum Kind { Space, Letter, Number, Other }

    public static ClipPreTokenizer Instance { get; } = new();

    private ClipPreTokenizer() { }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text.ToString());

    /// <summary>(start, length) of each piece of <paramref name="text"/>, in order.</summary>
    public static List<(int Start, int Length)> Split(string text)
    {
        var pieces = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            if ((MatchAt(text, i, SpecialTokens) ?? MatchAt(text, i, Contractions)) is { } whole)
            {
                pieces.Add((i, whole.Length));
                i += whole.Length;
                continue;
            }
            var kind = KindAt(text, i, out int width);
            if (kind == Kind.Space) { i += width; continue; }
            int start = i;
            i += width;
            if (kind != Kind.Number)                                       // numbers stand alone, one code point each
                while (i < text.Length && KindAt(text, i, out int next) == kind) i += next;
            pieces.Add((start, i - start));
        }
        return pieces;
    }

    private static string? MatchAt(string text, int index, IEnumerable<string> candidates) =>
        candidates.FirstOrDefault(c => string.CompareOrdinal(text, index, c, 0, c.Length) == 0);

    private static Kind KindAt(string text, int index, out int width)
    {
        Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out width);
        if (Rune.IsWhiteSpace(rune)) return Kind.Space;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }
}
