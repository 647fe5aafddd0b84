using System.Collections.Concurrent;
using System.Diagnostics;
using LaptopDiff.Runtime.Clip;
using Xunit.Abstractions;

namespace LaptopDiff.Runtime.Tests.Clip;

/// <summary>CLIP token ids against the reference tokenizer's (openai/CLIP simple_tokenizer) for every fixture prompt.</summary>
public sealed class ClipTokenizerTests(ITestOutputHelper log)
{
    // Loading reads and checks 49,408 tokens and 48,894 merges (about half a second): once per folder.
    private static readonly ConcurrentDictionary<string, ClipTokenizer> Loaded = new();

    private static ClipTokenizer Tokenizer(string folder) => Loaded.GetOrAdd(folder, f => ClipTokenizer.Load(ClipFixtures.Folder(f)));

    [Theory]
    [InlineData("tiny-sd15-pipe", "tokenizer")]
    [InlineData("tiny-sdxl-pipe", "tokenizer")]
    [InlineData("tiny-sdxl-pipe", "tokenizer_2")]
    public void Every_fixture_prompt_tokenizes_to_the_reference_ids(string pipe, string folder)
    {
        var tokenizer = Tokenizer($"{pipe}/{folder}");
        var prompts = ClipFixtures.Prompts($"{pipe}.io.json");
        var expected = ClipFixtures.Ids($"{pipe}.io.json", folder);
        Assert.Equal(18, prompts.Count);
        for (int i = 0; i < prompts.Count; i++)
            Assert.True(expected[i].SequenceEqual(tokenizer.Encode(prompts[i]).Ids),
                $"prompt {i} '{prompts[i]}': expected {string.Join(",", expected[i])}, got {string.Join(",", tokenizer.Encode(prompts[i]).Ids)}");
    }

    [Fact]
    public void Special_ids_and_pad_tokens_come_from_each_folder()
    {
        var first = Tokenizer("tiny-sdxl-pipe/tokenizer");
        var second = Tokenizer("tiny-sdxl-pipe/tokenizer_2");
        Assert.Equal((49406, 49407, 49407, 77), (first.BosId, first.EosId, first.PadId, first.MaxLength));
        Assert.Equal((49406, 49407, 0, 77), (second.BosId, second.EosId, second.PadId, second.MaxLength));
    }

    [Theory]
    [InlineData("tiny-sd15-pipe.io", "tokenizer", "te.input_ids")]
    [InlineData("tiny-sdxl-pipe.io", "tokenizer", "te.input_ids")]
    [InlineData("tiny-sdxl-pipe.io", "tokenizer_2", "te2.input_ids")]
    public void Padded_batches_equal_the_encoder_inputs(string io, string folder, string key)
    {
        var pipe = io[..^3];
        var tokenizer = Tokenizer($"{pipe}/{folder}");
        var tensors = ClipFixtures.Tensors($"{io}.safetensors");
        using var ids = tokenizer.EncodeBatch(ClipFixtures.Prompts($"{io}.json").Take(3).ToList());
        Assert.Equal(tensors[key].data<long>().ToArray(), ids.data<long>().ToArray());
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void Clip_model_folder_tokenizes_its_four_prompts()
    {
        var tokenizer = Tokenizer("tiny-clip");
        var tensors = ClipFixtures.Tensors("tiny-clip.io.safetensors");
        using var ids = tokenizer.EncodeBatch(ClipFixtures.Prompts("tiny-clip.io.json"));
        Assert.Equal([4L, 77L], ids.shape);
        Assert.Equal(tensors["input_ids"].data<long>().ToArray(), ids.data<long>().ToArray());
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void Long_prompt_keeps_75_words_and_the_end_token()
    {
        var prompt = ClipFixtures.Prompts("tiny-sd15-pipe.io.json")[9];
        var encoded = Tokenizer("tiny-sd15-pipe/tokenizer").Encode(prompt);
        // "a very long prompt" is 4 ids; " wordN with more descriptive text" is word + N's digits (one id each)
        // + 5 ("descriptive" is two): 7 ids for N < 10, 8 for N = 10..29. 2 + 4 + 10 * 7 + 20 * 8 = 236.
        Assert.True(encoded.Truncated);
        Assert.Equal(236, encoded.UntruncatedLength);
        Assert.Equal(77, encoded.Ids.Length);
        Assert.Equal(49407, encoded.Ids[^1]);
        var padded = Tokenizer("tiny-sd15-pipe/tokenizer").EncodePadded(prompt);
        Assert.Equal(encoded.Ids.Select(i => (long)i), padded);

        var shortPrompt = Tokenizer("tiny-sd15-pipe/tokenizer").Encode("a photograph of an astronaut riding a horse");
        Assert.False(shortPrompt.Truncated);
        Assert.Equal(10, shortPrompt.UntruncatedLength);
        var paddedShort = Tokenizer("tiny-sd15-pipe/tokenizer").EncodePadded("a photograph of an astronaut riding a horse");
        Assert.Equal(Enumerable.Repeat(49407L, 67), paddedShort.Skip(10));
    }

    [Fact]
    public void Part_prompts_tokenize_well_under_a_second()
    {
        var prompts = File.ReadAllLines(TestPaths.SharedData("PartiPrompts.tsv")).Skip(1)
            .Where(l => l.Length > 0).Select(l => l.Split('\t')[0]).ToList();
        var tokenizer = ClipTokenizer.Load(ClipFixtures.Folder("tiny-sd15-pipe/tokenizer"));     // a fresh one: nothing cached
        var watch = Stopwatch.StartNew();
        long ids = prompts.Sum(p => (long)tokenizer.Encode(p).Ids.Length);
        watch.Stop();
        log.WriteLine($"{prompts.Count} PartiPrompts, {ids} ids: {watch.ElapsedMilliseconds} ms");
        Assert.Equal(1632, prompts.Count);
        Assert.True(ids > 1632 * 3);
        Assert.True(watch.ElapsedMilliseconds < 1000, $"{prompts.Count} prompts took {watch.ElapsedMilliseconds} ms");
    }
}
