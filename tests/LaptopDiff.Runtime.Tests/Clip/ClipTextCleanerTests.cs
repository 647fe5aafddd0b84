using LaptopDiff.Runtime.Clip;

namespace LaptopDiff.Runtime.Tests.Clip;

/// <summary>openai/CLIP's text clean-up (ftfy, html.unescape, whitespace, str.lower) and its pre-tokenizer pattern, case by case.</summary>
public sealed class ClipTextCleanerTests
{
    [Theory]
    [InlineData("It\u2019s a \u201cQuoted\u201d \ufb01le", "it's a \"quoted\" file")]       // ftfy: curly quotes, ligatures
    [InlineData("  A &amp;amp; B  ", "a & b")]                                              // ftfy unescapes until stable
    [InlineData("a <b> &amp;amp; c", "a <b> & c")]                                          // '<': only html.unescape twice
    [InlineData("\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33", "loud noises")]  // full width
    [InlineData("tab\tnew\nline\r\n  end", "tab new line end")]
    [InlineData("\u001b[31mred\u001b[0m bell\u0007", "red bell")]                          // terminal escapes, controls
    [InlineData("a\u0085b", "a\u2026b")]                                                    // C1 control read as Windows-1252
    [InlineData("Cafe\u0301", "caf\u00e9")]                                                 // NFC
    [InlineData("\u0130stanbul", "i\u0307stanbul")]                                         // Python's full lower-casing
    [InlineData("\u03a3\u0391\u03a3 \u039f\u0394\u039f\u03a3.", "\u03c3\u03b1\u03c2 \u03bf\u03b4\u03bf\u03c2.")]  // final sigma
    [InlineData(" \t ", "")]
    public void Cleans_like_the_reference(string text, string expected) => Assert.Equal(expected, ClipTextCleaner.Clean(text));

    [Theory]
    [InlineData("a\U0001d400b \U0001d7ce\U0001d7cf", new[] { "a\U0001d400b", "\U0001d7ce", "\U0001d7cf" })]  // letters and digits beyond the BMP
    [InlineData("!'s don't 'll'd", new[] { "!'", "s", "don", "'t", "'ll", "'d" })]
    [InlineData("x<|endoftext|>y !<|endoftext|>", new[] { "x", "<|endoftext|>", "y", "!<|", "endoftext", "|>" })]
    [InlineData("year 2024!!", new[] { "year", "2", "0", "2", "4", "!!" })]
    [InlineData("\u0939\u093f\u0928\u094d\u0926\u0940", new[] { "\u0939", "\u093f", "\u0928", "\u094d", "\u0926", "\u0940" })]  // vowel signs are marks, not letters
    public void Pre_tokenizer_follows_the_pattern(string text, string[] expected) =>
        Assert.Equal(expected, ClipPreTokenizer.Split(text).Select(p => text.Substring(p.Start, p.Length)));
}
