using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Calibration;

namespace LaptopDiff.Digits;

/// <summary>Which caption templates: those the text-to-image digits model is trained on, or the held-out ones.</summary>
public enum CaptionSet
{
    Training,
    /// <summary>Phrasings never used in training, each with at least one word the training captions never contain.</summary>
    HeldOut,
}

/// <summary>
/// Captions of digits for the miniature Stable Diffusion: templates in which <c>{d}</c> stands for the digit, written as
/// a numeral ("7") or a word ("seven"); "a" becomes "an" before "8" and "eight". No template holds a number word
/// other than the digit's (no "one" as a pronoun), so the digit is the only number a caption names.
/// </summary>
public static class DigitCaptions
{
    public const string Placeholder = "{d}";

    public static readonly IReadOnlyList<string> Words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    /// <summary>The training templates (models/digits-sd/README.md lists them).</summary>
    public static readonly IReadOnlyList<string> TrainingTemplates =
    [
        "{d}",
        "a {d}",
        "the {d}",
        "digit {d}",
        "a digit {d}",
        "the digit {d}",
        "the {d} digit",
        "a handwritten {d}",
        "the handwritten digit {d}",
        "handwritten digit {d}",
        "{d}, handwritten",
        "a small {d} written in ink",
        "a {d} written by hand",
        "a photo of a handwritten {d}",
        "an image of a {d}",
        "a scanned {d}",
        "a black and white {d}",
        "white {d}, black background",
        "a grayscale image of the digit {d}",
        "a messy {d}",
        "a neat {d}",
        "a thin {d}",
        "a bold {d}",
        "a tilted {d}",
        "a quickly written {d}",
        "a close-up of a {d}",
        "an mnist {d}",
        "the mnist digit {d}",
    ];

    /// <summary>Held-out phrasings for evaluation only (their new words: drawing, number, picture, numeral, symbol, ...).</summary>
    public static readonly IReadOnlyList<string> HeldOutTemplates =
    [
        "a drawing of the number {d}",
        "a picture showing {d}",
        "sketch of the numeral {d}",
        "the symbol for {d}",
        "someone wrote the figure {d}",
        "my favourite number is {d}",
        "{d} scribbled on paper",
        "a pencil sketch of {d}",
        "please draw {d}",
        "number {d} in large print",
    ];

    public static IReadOnlyList<string> Templates(CaptionSet set) => set == CaptionSet.Training ? TrainingTemplates : HeldOutTemplates;

    /// <summary>The template filled with the digit as a word or a numeral.</summary>
    public static string Fill(string template, int digit, bool asWord)
    {
        if (digit is < 0 or > 9) throw new ArgumentOutOfRangeException(nameof(digit), digit, "a digit is 0..9");
        var text = asWord ? Words[digit] : digit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var filled = template.Replace(Placeholder, text, StringComparison.Ordinal);
        // "a 8" / "a eight" read "an"
        return digit == 8 ? filled.Replace($"a {text}", $"an {text}", StringComparison.Ordinal) : filled;
    }

    /// <summary>Training image <paramref name="index"/>'s caption: a seeded template and form (pure in seed and index).</summary>
    public static string ForTrainingImage(int digit, long seed, long index)
    {
        var random = new SeededRandom(seed, RandomPurpose.DigitCaptions, index);
        int template = (int)(random.Uniform(0) * TrainingTemplates.Count);
        return Fill(TrainingTemplates[template], digit, asWord: random.Uniform(1) < 0.5);
    }

    /// <summary>
    /// Evaluation prompt <paramref name="k"/> of a digit: the templates in turn (shifted by the digit, so the digits meet
    /// the templates in different orders), word and numeral alternating, with the alternation flipped every round of the
    /// templates, so two rounds give every template in both forms.
    /// </summary>
    public static string ForEvaluation(CaptionSet set, int digit, int k)
    {
        var templates = Templates(set);
        return Fill(templates[(k + digit) % templates.Count], digit, asWord: (k + k / templates.Count) % 2 == 0);
    }
}
