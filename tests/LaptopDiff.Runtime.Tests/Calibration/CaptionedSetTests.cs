using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Schedulers;
using System.Text.Json;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Calibration;

/// <summary>
/// Training sets made from captioned images (format laptopdiff.calibration/1 with the optional input_ids,
/// negative_encoder_hidden_states and captions): shards in a folder, how they load and how training drops captions.
/// </summary>
public sealed class CaptionedSetTests
{
    public CaptionedSetTests() => set_num_threads(1);

    internal static UNetLayout Layout => SpecFiles.LoadLayout(Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml"));   // 4 x 16 x 16, D = 32

    /// <summary>Sample j's latents are all j, its states all 100 + j, its ids [49406, 320 + j, 49407, 49407, ...]; the negative states all -1.</summary>
    internal static string WriteShard(string folder, string name, int first, int count, long tokens = 5, long[]? negativeShape = null, Dictionary<string, string>? extra = null)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var j = arange(first, first + count, ScalarType.Float32);
        var ids = full(count, tokens, 49407L, ScalarType.Int64);
        ids[.., 0] = tensor(49406L);
        ids[.., 1] = arange(320 + first, 320 + first + count, ScalarType.Int64);
        var metadata = new Dictionary<string, string>
        {
            [CalibrationFormat.FormatKey] = CalibrationFormat.Version,
            [CalibrationFormat.CaptionsKey] = JsonSerializer.Serialize(Enumerable.Range(first, count).Select(i => $"caption {i}")),
        };
        foreach (var (k, v) in extra ?? []) metadata[k] = v;
        var path = Path.Combine(folder, name);
        SafetensorsFile.Save(path,
        [
            new(CalibrationFormat.Latents, j.reshape(count, 1, 1, 1).expand(count, 4, 16, 16).contiguous()),
            new(CalibrationFormat.EncoderHiddenStates, (j + 100).reshape(count, 1, 1).expand(count, tokens, 32).contiguous()),
            new(CalibrationFormat.InputIds, ids),
            new(CalibrationFormat.NegativeEncoderHiddenStates, full(negativeShape ?? [1, tokens, 32], -1f)),
        ], metadata);
        return path;
    }

    [Fact]
    public void A_folder_of_shards_loads_as_one_set_with_ids_captions_and_one_empty_prompt()
    {
        using var temp = new TempFolder();
        var dir = temp.File("shards");
        WriteShard(dir, "data-00001-of-00002.safetensors", 0, 3);
        WriteShard(dir, "data-00002-of-00002.safetensors", 3, 2);
        File.WriteAllText(Path.Combine(dir, "dataset.json"), "{}");

        using var set = CalibrationSet.Load(dir, Layout);

        Assert.Equal(5, set.Count);
        Assert.Equal([0f, 1, 2, 3, 4], set.Latents[.., 0, 0, 0].data<float>().ToArray());
        Assert.Equal([320L, 321, 322, 323, 324], set.InputIds![.., 1].data<long>().ToArray());
        Assert.Equal([1L, 5, 32], set.NegativeEncoderHiddenStates!.shape);
        Assert.True(set.NegativeEncoderHiddenStates.eq(-1).all().item<bool>());
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"caption {i}"), set.Captions);
    }

    [Fact]
    public void A_folder_without_shards_or_with_two_sets_and_misshaped_tensors_are_refused()
    {
        using var temp = new TempFolder();
        var dir = temp.File("shards");
        Directory.CreateDirectory(dir);
        Assert.Contains("holds no calibration shards", Assert.Throws<FileNotFoundException>(() => CalibrationSet.Load(dir, Layout)).Message);
        WriteShard(dir, "a-00001-of-00001.safetensors", 0, 2);
        WriteShard(dir, "b-00001-of-00001.safetensors", 0, 2);
        Assert.Contains("shards of 2 sets (a, b)", Assert.Throws<FileNotFoundException>(() => CalibrationSet.Load(dir, Layout)).Message);

        var badNegative = WriteShard(temp.File("n"), "x.safetensors", 0, 2, negativeShape: [2, 5, 32]);
        Assert.Contains("'negative_encoder_hidden_states' must be [1,5,32]", Assert.Throws<InputException>(() => CalibrationSet.Load(badNegative, Layout)).Message);
        var badCaptions = WriteShard(temp.File("c"), "x.safetensors", 0, 2, extra: new() { [CalibrationFormat.CaptionsKey] = "[\"one\"]" });
        Assert.Contains("lists 1 captions for 2 samples", Assert.Throws<InputException>(() => CalibrationSet.Load(badCaptions, Layout)).Message);

        var floatIds = temp.File("f.safetensors");
        using (var scope = NewDisposeScope())
            SafetensorsFile.Save(floatIds, [new(CalibrationFormat.Latents, zeros(2, 4, 16, 16)), new(CalibrationFormat.EncoderHiddenStates, zeros(2, 5, 32)),
                new(CalibrationFormat.InputIds, zeros(2, 5))]);
        Assert.Contains("'input_ids' is F32; it must be I64", Assert.Throws<InputException>(() => CalibrationSet.Load(floatIds, Layout)).Message);
    }

    [Fact]
    public void Dropped_conditioning_is_the_empty_prompts_states_or_its_ids_when_the_text_encoder_trains()
    {
        using var temp = new TempFolder();
        var path = WriteShard(temp.File("s"), "x.safetensors", 0, 4);
        using var set = CalibrationSet.Load(path, Layout);
        var options = new TrainingOptions { BatchSize = 4, ConditioningDropout = 0.5, Seed = 1, Schedule = NoiseSchedule.StableDiffusion };

        using var batch = new TrainingData(set, options).Batch(0, 0);
        var perSample = batch.Context!.mean([1, 2]).data<float>().ToArray();
        Assert.Contains(-1f, perSample);                                               // dropped: the empty prompt's states
        Assert.Contains(perSample, v => v >= 100);                                    // kept: the sample's own
        Assert.All(perSample, v => Assert.True(v == -1f || v >= 100, $"{v} is neither"));

        long[] empty = [49406, 49407, 49407, 49407, 49407];
        var captions = new CaptionTokens(empty, 49407, 49407, new HashSet<long> { 49406, 49407 }, 49408, MaxFillers: 0);
        using var idBatch = new TrainingData(set, options, captions: captions).Batch(0, 0);
        Assert.Null(idBatch.Context);
        var rows = idBatch.InputIds!.data<long>().ToArray().Chunk(5).ToList();
        // the same samples are dropped as above, by the same seeded stream
        for (int i = 0; i < 4; i++)
            Assert.Equal(perSample[i] == -1f, rows[i].SequenceEqual(empty));
        Assert.All(rows.Where(r => !r.SequenceEqual(empty)), r => Assert.InRange(r[1], 320, 323));
    }

    [Fact]
    public void Filler_tokens_are_inserted_between_start_and_end_keeping_the_caption_in_order()
    {
        long[] ids = [49406, 320, 321, 322, 49407, 49407, 49407, 49407, 49407, 49407];
        var captions = new CaptionTokens([49406, 49407, 49407, 49407, 49407, 49407, 49407, 49407, 49407, 49407], 49407, 49407,
            new HashSet<long> { 49406, 49407 }, VocabSize: 49408, MaxFillers: 3);
        var counts = new int[4];
        for (int p = 0; p < 400; p++)
        {
            var result = captions.WithFillers(ids, new SeededRandom(0, RandomPurpose.FillerTokens, p));
            Assert.Equal(10, result.Length);
            Assert.Equal(49406, result[0]);
            int end = Array.IndexOf(result, 49407L, 1);
            var body = result[1..end];
            Assert.All(result[(end + 1)..], t => Assert.Equal(49407, t));
            Assert.Equal([320L, 321, 322], body.Where(t => t is >= 320 and <= 322).ToArray());   // the caption, in order (a filler may repeat a token: not here)
            Assert.DoesNotContain(49406L, body);
            counts[body.Length - 3]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 60, 140));                    // 0..3 fillers, uniform: 100 each
        Assert.Equal(ids, (captions with { MaxFillers = 0 }).WithFillers(ids, new SeededRandom(0, RandomPurpose.FillerTokens, 0)));

        // too long: cut like the tokenizer, the end token kept last
        long[] full = [49406, 1, 2, 3, 49407];
        var cut = new CaptionTokens([49406, 49407, 49407, 49407, 49407], 49407, 49407, new HashSet<long> { 49406, 49407 }, 49408, 3);
        for (int p = 0; p < 50; p++)
        {
            var r = cut.WithFillers(full, new SeededRandom(0, RandomPurpose.FillerTokens, p));
            Assert.Equal(49406, r[0]);
            Assert.Equal(49407, r[4]);
            Assert.DoesNotContain(49407L, r[1..4]);
        }
    }
}
