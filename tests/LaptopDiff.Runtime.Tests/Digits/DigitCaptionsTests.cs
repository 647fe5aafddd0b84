using System.Text.Json;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Tests.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Digits;

/// <summary>The digits' caption templates and the MNIST image folder made from them.</summary>
public sealed class DigitCaptionsTests
{
    private static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.Load(TestPaths.SdPipeline("tiny-sd15-pipe/tokenizer")));

    private static IEnumerable<string> All(CaptionSet set) =>
        from template in DigitCaptions.Templates(set) from digit in Enumerable.Range(0, 10) from word in new[] { false, true }
        select DigitCaptions.Fill(template, digit, word);

    [Fact]
    public void Numerals_and_words_fill_the_template_and_eight_takes_an()
    {
        Assert.Equal("a handwritten 7", DigitCaptions.Fill("a handwritten {d}", 7, asWord: false));
        Assert.Equal("the digit seven", DigitCaptions.Fill("the digit {d}", 7, asWord: true));
        Assert.Equal("an 8", DigitCaptions.Fill("a {d}", 8, asWord: false));
        Assert.Equal("a photo of an eight", DigitCaptions.Fill("a photo of a {d}", 8, asWord: true));
        Assert.Equal("zero", DigitCaptions.Fill("{d}", 0, asWord: true));
    }

    [Fact]
    public void Every_held_out_phrasing_has_a_token_no_training_caption_contains_and_no_caption_is_shared()
    {
        var trainingTokens = All(CaptionSet.Training).SelectMany(c => Tokenizer.Value.Encode(c).Ids).ToHashSet();
        foreach (var template in DigitCaptions.HeldOutTemplates)
        {
            var unseen = Tokenizer.Value.Encode(DigitCaptions.Fill(template, 3, asWord: true)).Ids.Where(id => !trainingTokens.Contains(id)).ToList();
            Assert.True(unseen.Count > 0, $"'{template}' holds only tokens of the training captions");
        }
        Assert.Empty(All(CaptionSet.HeldOut).Intersect(All(CaptionSet.Training)));
    }

    [Fact]
    public void A_caption_names_no_number_but_its_digit()
    {
        foreach (var set in new[] { CaptionSet.Training, CaptionSet.HeldOut })
            foreach (var template in DigitCaptions.Templates(set))
            {
                var words = template.Replace(",", " ").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.DoesNotContain(words, w => DigitCaptions.Words.Contains(w) || w.Any(char.IsDigit));
                Assert.Single(words, w => w == DigitCaptions.Placeholder);
            }
    }

    [Fact]
    public void Training_captions_are_seeded_per_image_and_use_every_template_in_both_forms()
    {
        var captions = Enumerable.Range(0, 2000).Select(i => DigitCaptions.ForTrainingImage(i % 10, seed: 0, index: i)).ToList();
        Assert.Equal(captions, Enumerable.Range(0, 2000).Select(i => DigitCaptions.ForTrainingImage(i % 10, 0, i)));
        Assert.NotEqual(captions, Enumerable.Range(0, 2000).Select(i => DigitCaptions.ForTrainingImage(i % 10, 1, i)));
        Assert.Equal(All(CaptionSet.Training).Count(), All(CaptionSet.Training).Distinct().Count());
        Assert.Subset(All(CaptionSet.Training).ToHashSet(), captions.ToHashSet());
        Assert.InRange(captions.Distinct().Count(), 500, 560);                  // 28 templates x 10 digits x 2 forms = 560
    }

    [Fact]
    public void Two_rounds_of_evaluation_prompts_give_every_template_as_word_and_numeral()
    {
        Assert.Equal("a drawing of the number 9", DigitCaptions.ForEvaluation(CaptionSet.HeldOut, 9, 1));
        Assert.Equal("a drawing of the number nine", DigitCaptions.ForEvaluation(CaptionSet.HeldOut, 9, 11));
        foreach (var set in new[] { CaptionSet.Training, CaptionSet.HeldOut })
        {
            int rounds = 2 * DigitCaptions.Templates(set).Count;
            var prompts = Enumerable.Range(0, rounds).Select(k => DigitCaptions.ForEvaluation(set, 4, k)).ToList();
            Assert.Equal(All(set).Where(c => c.Contains("four") || c.Contains('4')).Order(), prompts.Order());
            Assert.Equal(rounds / 2, prompts.Count(p => p.Contains("four")));
        }
    }

    [Fact]
    public void The_mnist_image_folder_holds_the_padded_digits_as_rgb_with_captions_of_their_labels()
    {
        using var temp = new TempFolder();
        using var heldOut = MnistDigits.Load(MnistDigits.DefaultPath(TestPaths.RepoRoot), MnistSplit.HeldOut);
        var target = temp.File("images");
        MnistImageFolder.Write(heldOut, target, CaptionSet.HeldOut, seed: 0);

        var folder = ImageFolder.Read(target, captionsRequired: true);
        Assert.Equal(1000, folder.Entries.Count);
        var labels = heldOut.Labels.data<long>().ToArray();
        for (int i = 0; i < 1000; i += 97)
            Assert.Equal(DigitCaptions.ForEvaluation(CaptionSet.HeldOut, (int)labels[i], i), folder.Entries[i].Caption);

        using var expected = heldOut.ToModelInput();                                      // [N,1,32,32] in [-1,1]
        foreach (int i in new[] { 0, 123, 999 })
        {
            using var pixels = ImageDecoder.Decode(folder.Entries[i].FullPath, 32).Pixels!;   // [3,32,32]
            for (int c = 0; c < 3; c++)
                Assert.True((pixels[c] - expected[i, 0]).abs().max().item<float>() < 1e-6f, $"image {i} channel {c}");
        }
        var first = JsonDocument.Parse(File.ReadLines(Path.Combine(target, ImageFolder.MetadataFile)).First()).RootElement;
        Assert.Equal("00000.png", first.GetProperty("file_name").GetString());
    }
}
