using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning;

namespace LaptopDiff.Runtime.Tests.Pruning;

/// <summary><c>--shard k/n</c> splits the units deterministically; merging the shards gives the unsharded criterion.</summary>
public sealed class ShardMergeTests
{
    [Fact]
    public void Shards_one_and_two_of_two_merge_into_the_unsharded_criterion()
    {
        using var folder = new SweepFolder();
        var calibration = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sdxl, samples: 2);
        SweepOptions Options(string shard) => new() { BatchSize = 2, Shard = SweepShard.Parse(shard) };
        var whole = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sdxl, calibration, folder.File("whole.json"), Options("1/1")));
        var first = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sdxl, calibration, folder.File("s1.json"), Options("1/2")));
        var second = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sdxl, calibration, folder.File("s2.json"), Options("2/2")));

        int m = whole.Criterion.Units.Count;
        Assert.Equal((m + 1) / 2, first.Criterion.Units.Count);
        Assert.Equal(m / 2, second.Criterion.Units.Count);
        Assert.Equal(whole.Criterion.Units.Where((_, i) => i % 2 == 1).Select(u => u.Id), second.Criterion.Units.Select(u => u.Id));

        var merged = ShardMerge.Run([folder.File("s2.json"), folder.File("s1.json")], folder.File("merged.json"), SweepTestKit.Layout(SweepTestKit.Sdxl), created: "2026-01-01T00:00:00Z");
        Assert.Equal(File.ReadAllText(whole.CriterionPath), File.ReadAllText(merged.CriterionPath));
        Assert.Equal(2, merged.Record.TeacherForwards);   // one per shard and batch
    }

    [Fact]
    public void Merge_refuses_missing_repeated_and_mismatched_shards()
    {
        using var folder = new SweepFolder();
        var calibration = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sd15, samples: 1);
        void Sweep(string name, string shard, long seed = 0) => SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, folder.File(name),
            new SweepOptions { BatchSize = 1, Shard = SweepShard.Parse(shard), Noising = new() { Seed = seed } }));
        Sweep("a1.json", "1/3");
        Sweep("a2.json", "2/3");
        Sweep("b3.json", "3/3", seed: 5);

        string Fails(params string[] names) =>
            Assert.Throws<InputException>(() => ShardMerge.Run(names.Select(folder.File).ToList(), folder.File("out.json"))).Message;
        Assert.Contains("missing shard(s): 3/3", Fails("a1.json", "a2.json"));
        Assert.Contains("is in both", Fails("a1.json", "a1.json", "a2.json"));
        Assert.Contains("seed: 0 vs 5", Fails("a1.json", "a2.json", "b3.json"));
        File.Delete(SweepFiles.RecordPath(folder.File("a2.json")));
        Assert.Contains("a2.sweep.json' is missing", Fails("a1.json", "a2.json"));
        Assert.False(File.Exists(folder.File("out.json")));
    }

    [Theory]
    [InlineData("0/2")]
    [InlineData("3/2")]
    [InlineData("1/0")]
    [InlineData("2")]
    [InlineData("a/b")]
    public void Shard_numbers_out_of_range_are_setting_errors(string shard) =>
        Assert.Equal(nameof(SweepOptions.Shard), Assert.Throws<SettingException>(() => SweepShard.Parse(shard)).Setting);

    [Fact]
    public void Shards_partition_the_units_by_position()
    {
        var shards = Enumerable.Range(1, 3).Select(k => new SweepShard(k, 3)).ToList();
        for (int i = 0; i < 10; i++) Assert.Single(shards, s => s.Contains(i));
        Assert.True(new SweepShard(2, 3).Contains(4));
    }
}
