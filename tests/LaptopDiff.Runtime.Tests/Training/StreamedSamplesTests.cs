using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Tests.Calibration;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

/// <summary>Sharded training sets read shard by shard (<see cref="StreamedSamples"/>) instead of loaded whole.</summary>
public sealed class StreamedSamplesTests
{
    public StreamedSamplesTests() => set_num_threads(1);

    /// <summary>Shards of 5, 4 and 3 samples; sample j's latents are all j (<see cref="CaptionedSetTests.WriteShard"/>).</summary>
    private static string WriteShards(TempFolder temp)
    {
        var dir = temp.File("shards");
        CaptionedSetTests.WriteShard(dir, "data-00001-of-00003.safetensors", 0, 5);
        CaptionedSetTests.WriteShard(dir, "data-00002-of-00003.safetensors", 5, 4);
        CaptionedSetTests.WriteShard(dir, "data-00003-of-00003.safetensors", 9, 3);
        return dir;
    }

    private static int ShardOf(long sample) => sample < 5 ? 0 : sample < 9 ? 1 : 2;

    [Fact]
    public void Each_epoch_visits_every_sample_once_one_shard_after_another_in_a_new_order()
    {
        using var temp = new TempFolder();
        var dir = WriteShards(temp);
        Assert.True(StreamedSamples.Applies(dir));
        using var samples = new StreamedSamples(dir, CaptionedSetTests.Layout);
        Assert.Equal(12, samples.Count);
        using (var whole = CalibrationSet.Load(dir, CaptionedSetTests.Layout)) Assert.Equal(whole.Hash, samples.Hash);

        var epochs = Enumerable.Range(0, 3).Select(e => Enumerable.Range(0, 12).Select(o => samples.SampleAt(7, e * 12 + o)).ToArray()).ToList();
        foreach (var epoch in epochs)
        {
            Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), epoch.Order());
            var shardRuns = epoch.Select(ShardOf).Where((s, i) => i == 0 || s != ShardOf(epoch[i - 1])).ToList();
            Assert.Equal(3, shardRuns.Count);                                               // each shard read in one stretch
            Assert.Equal(3, shardRuns.Distinct().Count());
        }
        Assert.NotEqual(epochs[0], epochs[1]);
        Assert.Equal(epochs[0], Enumerable.Range(0, 12).Select(o => samples.SampleAt(7, o)).ToArray());   // pure in (seed, position)
        Assert.NotEqual(epochs[0], Enumerable.Range(0, 12).Select(o => samples.SampleAt(8, o)).ToArray());
    }

    [Fact]
    public void Rows_across_shards_come_back_in_the_order_asked()
    {
        using var temp = new TempFolder();
        using var samples = new StreamedSamples(WriteShards(temp), CaptionedSetTests.Layout);
        long[] asked = [11, 2, 6, 0, 9, 5];
        using var rows = samples.Rows(asked);
        Assert.Equal(asked.Select(j => (float)j), rows.Latents.mean([1, 2, 3]).data<float>().ToArray());
        Assert.Equal(asked.Select(j => 100f + j), rows.EncoderHiddenStates.mean([1, 2]).data<float>().ToArray());
        Assert.Equal(asked.Select(j => 320L + j), rows.InputIds![.., 1].data<long>().ToArray());
        Assert.Equal(-1f, samples.NegativeEncoderHiddenStates!.mean().item<float>());
    }

    [Fact]
    public void Training_batches_from_streamed_shards_drop_captions_to_the_empty_prompt()
    {
        using var temp = new TempFolder();
        using var samples = new StreamedSamples(WriteShards(temp), CaptionedSetTests.Layout);
        var options = new TrainingOptions { BatchSize = 12, ConditioningDropout = 0.5, Seed = 3, Schedule = NoiseSchedule.StableDiffusion };
        using var batch = new TrainingData(samples, options).Batch(0, 0);
        var clean = batch.Clean!.mean([1, 2, 3]).data<float>().ToArray();
        var context = batch.Context!.mean([1, 2]).data<float>().ToArray();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), clean.Order());                 // one epoch: every sample once
        for (int i = 0; i < 12; i++)
            Assert.True(context[i] == -1f || context[i] == 100 + clean[i], $"sample {clean[i]}: states {context[i]}");
        Assert.Contains(-1f, context);
        Assert.Contains(context, v => v >= 100);
    }

    [Fact]
    public void One_file_and_labelled_sets_are_not_streamed()
    {
        using var temp = new TempFolder();
        var one = CaptionedSetTests.WriteShard(temp.File("one"), "set.safetensors", 0, 3);
        Assert.False(StreamedSamples.Applies(one));
        var dir = temp.File("labelled");
        Directory.CreateDirectory(dir);
        foreach (var (name, first) in new[] { ("l-00001-of-00002.safetensors", 0), ("l-00002-of-00002.safetensors", 2) })
            SafetensorsFile.Save(Path.Combine(dir, name),
                [new(CalibrationFormat.Latents, zeros(2, 4, 16, 16)), new(CalibrationFormat.Labels, tensor(new long[] { first, first + 1 }))],
                new Dictionary<string, string> { [CalibrationFormat.FormatKey] = CalibrationFormat.Version });
        Assert.False(StreamedSamples.Applies(dir));
        Assert.Contains("holds class labels", Assert.Throws<InputException>(() => new StreamedSamples(dir, CaptionedSetTests.Layout)).Message);
    }
}
