using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// The text clean-up of openai/CLIP's <c>simple_tokenizer</c>, in its order:
/// <c>ftfy.fix_text</c>, <c>html.unescape</c> twice, whitespace runs to one space and stripped, Python's
/// <c>str.lower()</c>. Of ftfy (6.x defaults) it reproduces every fix that is a pure function of the
/// characters (HTML entities with the '&lt;' rule, C1 controls as Windows-1252, Latin ligatures, full/half
/// width forms, curly quotes, lone surrogates, terminal escapes, control characters, NFC), but not its
/// mojibake detection (<c>fix_encoding</c>), which only changes text that was decoded with the wrong codec.
/// HTML entities are decoded by <see cref="WebUtility.HtmlDecode(string)"/>: numeric references and the
/// HTML 4 names (Python also knows the HTML 5 names and a few legacy names written without ';').
/// transformers' <c>CLIPTokenizer</c> with ftfy installed differs only in skipping the final two
/// <c>html.unescape</c>; its fast tokenizer applies NFC alone (so, e.g., it keeps curly quotes).
/// </summary>
public static class ClipTextCleaner
{
    private static readonly Regex TerminalEscape = new("\u001b\\[((?:\\d|;)*)([a-zA-Z])", RegexOptions.CultureInvariant);

    // Windows-1252 meanings of U+0080..U+009F (ftfy's "sloppy" codec keeps the five undefined bytes as they are).
    private const string Windows1252C1 =
        "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
        "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

    private static readonly Dictionary<char, string> Ligatures = new()
    {
        ['\u0132'] = "IJ", ['\u0133'] = "ij", ['\u0149'] = "\u02bcn",
        ['\u01f1'] = "DZ", ['\u01f2'] = "Dz", ['\u01f3'] = "dz",
        ['\u01c4'] = "D\u017d", ['\u01c5'] = "D\u017e", ['\u01c6'] = "d\u017e",
        ['\u01c7'] = "LJ", ['\u01c8'] = "Lj", ['\u01c9'] = "lj",
        ['\u01ca'] = "NJ", ['\u01cb'] = "Nj", ['\u01cc'] = "nj",
        ['\ufb00'] = "ff", ['\ufb01'] = "fi", ['\ufb02'] = "fl", ['\ufb03'] = "ffi", ['\ufb04'] = "ffl",
        ['\ufb05'] = "\u017ft", ['\ufb06'] = "st",
    };

    /// <summary>The text CLIP's pre-tokenizer sees: fixed, unescaped, whitespace-collapsed, lower-cased.</summary>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = FixText(text);
        text = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        return PythonLower(CollapseWhitespace(text));
    }

    /// <summary>
    /// ftfy's <c>fix_text</c> without mojibake detection: line by line (ftfy stops decoding HTML entities
    /// from the first line holding a '&lt;' on, as that text may be HTML), each line fixed until it stops changing.
    /// </summary>
    internal static string FixText(string text)
    {
        var result = new StringBuilder(text.Length);
        bool unescapeHtml = true;
        for (int pos = 0; pos < text.Length;)
        {
            int end = text.IndexOf('\n', pos);
            end = end < 0 ? text.Length : end + 1;
            var line = text[pos..end];
            if (line.Contains('<')) unescapeHtml = false;
            string previous;
            do
            {
                previous = line;
                line = FixOnce(line, unescapeHtml);
            }
            while (line != previous);
            result.Append(line);
            pos = end;
        }
        return result.ToString();
    }

    // ftfy's fixers in ftfy's order; line breaks are not unified because every break becomes one space later.
    private static string FixOnce(string text, bool unescapeHtml)
    {
        if (unescapeHtml) text = WebUtility.HtmlDecode(text);
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c >= '\u0080' && c <= '\u009f') c = Windows1252C1[c - 0x80];
            if (Ligatures.TryGetValue(c, out var expanded)) { AppendUncurled(sb, expanded); continue; }
            if (c == '\u3000') { sb.Append(' '); continue; }
            if (c >= '\uff01' && c <= '\uffef') { AppendUncurled(sb, char.ToString(c).Normalize(NormalizationForm.FormKC)); continue; }
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb.Append(c).Append(text[++i]); continue; }
                sb.Append('\ufffd');
                continue;
            }
            AppendUncurled(sb, c);
        }
        text = TerminalEscape.Replace(sb.ToString(), "");
        text = RemoveControlCharacters(text);
        return text.Normalize(NormalizationForm.FormC);
    }

    private static void AppendUncurled(StringBuilder sb, string s)
    {
        foreach (var c in s) AppendUncurled(sb, c);
    }

    private static void AppendUncurled(StringBuilder sb, char c) => sb.Append(c switch
    {
        '\u02bc' or (>= '\u2018' and <= '\u201b') => '\'',
        >= '\u201c' and <= '\u201f' => '"',
        _ => c,
    });

    private static string RemoveControlCharacters(string text)
    {
        if (!text.Any(IsRemovedControl)) return text;
        return string.Concat(text.Where(c => !IsRemovedControl(c)));
    }

    private static bool IsRemovedControl(char c) =>
        c <= '\u0008' || c == '\u000b' || (c >= '\u000e' && c <= '\u001f') || c == '\u007f'
        || (c >= '\u206a' && c <= '\u206f') || c == '\ufeff' || (c >= '\ufff9' && c <= '\ufffc');

    /// <summary>Python's <c>re.sub(r'\s+', ' ', text).strip()</c>.</summary>
    internal static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (var c in text)
        {
            if (IsPythonSpace(c)) { pendingSpace = sb.Length > 0; continue; }
            if (pendingSpace) sb.Append(' ');
            pendingSpace = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    // str.isspace(): .NET's white space plus the four information separators U+001C..U+001F.
    private static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || (c >= '\u001c' && c <= '\u001f');

    /// <summary>
    /// Python's <c>str.lower()</c>: the simple lower-case mapping, plus the two full mappings that differ
    /// from it: U+0130 to "i" + combining dot, and a capital sigma that ends a word to final sigma.
    /// </summary>
    internal static string PythonLower(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int width);
            if (rune.Value == 0x130) sb.Append("i\u0307");
            else if (rune.Value == 0x3a3) sb.Append(IsFinalSigma(text, i) ? '\u03c2' : '\u03c3');
            else sb.Append(Rune.ToLowerInvariant(rune).ToString());
            i += width;
        }
        return sb.ToString();
    }

    // Unicode's Final_Sigma: a cased letter before (skipping case-ignorable characters) and none after.
    private static bool IsFinalSigma(string text, int index)
    {
        int before = index - 1;
        while (before >= 0 && IsCaseIgnorable(text[before])) before--;
        if (before < 0 || !IsCased(text[before])) return false;
        int after = index + 1;
        while (after < text.Length && IsCaseIgnorable(text[after])) after++;
        return after >= text.Length || !IsCased(text[after]);
    }

    private static bool IsCased(char c) => CharUnicodeInfo.GetUnicodeCategory(c)
        is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(char c) => c is '\'' or '.' or ':' or '\u00b7' or '\u2019' or '\u2018' or '\u2024'
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
}
