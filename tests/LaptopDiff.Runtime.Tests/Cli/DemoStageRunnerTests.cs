using LaptopDiff.Cli.Commands.Demo;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>The demo's stage runner: concurrent stages really overlap, their console lines stay whole, and wall time counts overlaps once.</summary>
public class DemoStageRunnerTests
{
    /// <summary>Two in-process stages that each wait for the other: they finish only when they run at the same time.</summary>
    private static DemoStage[] Meeting(Barrier barrier, string folder, TimeSpan patience) =>
    [
        .. new[] { "a", "b" }.Select(name => DemoStage.InProcess(name, $"stage {name}", log =>
        {
            log.Write($"{name} waits");
            log.WriteLine(" for the other");
            if (!barrier.SignalAndWait(patience)) throw new TimeoutException($"stage {name} ran alone");
            File.WriteAllText(Path.Combine(folder, name), name);
        }, Path.Combine(folder, name)) with { Concurrent = true }),
        DemoStage.InProcess("after", "a stage after them", _ => File.WriteAllText(Path.Combine(folder, "after"), ""), Path.Combine(folder, "after")),
    ];

    [Fact]
    public void ConcurrentStagesOverlapAndTheirLinesArePrefixed()
    {
        using var temp = new TempFolder();
        var console = new StringWriter();
        var runner = new DemoStageRunner(temp.Path, "fingerprint", console);
        using var barrier = new Barrier(2);
        runner.Run(Meeting(barrier, temp.Path, TimeSpan.FromSeconds(30)), lanes: 2);

        // in the stages' order, whichever of the concurrent two finished first
        Assert.Equal(["a", "b", "after"], runner.ElapsedSeconds.Keys);
        var lines = console.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains("[a] a waits for the other", lines);
        Assert.Contains("[b] b waits for the other", lines);
        // the two stages overlap: the wall time is below the sum of the stage times
        Assert.True(runner.WallSeconds < runner.ElapsedSeconds.Values.Sum(), $"{runner.WallSeconds} s of wall time, {runner.ElapsedSeconds.Values.Sum()} s of stage time");
        // a rerun skips them all and still knows their times and overlap
        var again = new DemoStageRunner(temp.Path, "fingerprint", new StringWriter());
        again.Run(Meeting(new Barrier(1), temp.Path, TimeSpan.FromSeconds(30)), lanes: 2);
        Assert.Equal(runner.WallSeconds, again.WallSeconds, 3);
    }

    [Fact]
    public void OneLaneRunsConcurrentStagesInTurn()
    {
        using var temp = new TempFolder();
        var runner = new DemoStageRunner(temp.Path, "fingerprint", new StringWriter());
        using var barrier = new Barrier(2);
        // in turn, the first stage waits alone: it fails, and the failure reaches the caller
        var e = Assert.Throws<TimeoutException>(() => runner.Run(Meeting(barrier, temp.Path, TimeSpan.FromSeconds(1)), lanes: 1));
        Assert.Contains("ran alone", e.Message);
    }

    [Fact]
    public void WallTimeIsTheUnionOfTheIntervals()
    {
        StageTime[] times = [new(10, 100), new(5, 105), new(10, 112), new(3, double.NaN)];
        // [100,110] and [105,110] overlap, [112,122] apart, the stage without a start counts whole
        Assert.Equal(10 + 10 + 3, StageTime.UnionSeconds(times), 9);
        Assert.True(StageTime.TryParse(new StageTime(1.5, 1700000000.25).ToString(), out var parsed));
        Assert.Equal(new StageTime(1.5, 1700000000.25), parsed);
        Assert.True(StageTime.TryParse("42.5", out var old));
        Assert.True(double.IsNaN(old.StartUnixS));
        Assert.False(StageTime.TryParse("soon", out _));
    }
}
