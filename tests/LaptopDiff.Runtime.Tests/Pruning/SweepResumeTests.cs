using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Pruning;

/// <summary>A killed sweep resumes from CRITERION.json.partial and ends with the criterion of an uninterrupted one.</summary>
public sealed class SweepResumeTests
{
    [Fact]
    public void Rerun_with_a_partial_of_half_the_units_measures_only_the_rest_and_gives_the_same_criterion()
    {
        using var folder = new SweepFolder();
        var calibration = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sd15, samples: 4);
        var full = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, folder.File("full.json")));
        Assert.False(File.Exists(SweepFiles.PartialPath(folder.File("full.json"))));   // removed once finished

        // the partial of a sweep killed after half the units: the other half has no losses yet
        var output = folder.File("resumed.json");
        var partial = SweepFiles.ReadRecord(full.RecordPath);
        var dropped = partial.Units.Where((_, i) => i % 2 == 1).Select(u => u.Id).ToList();
        foreach (var id in dropped) Array.Fill(partial.LossesOf(id), null);
        SweepFiles.WriteText(SweepFiles.PartialPath(output), SweepRecordJson.Write(partial));

        var log = new List<string>();
        var resumed = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, output), log: log.Add);

        Assert.Equal(CriterionWriter.Write(full.Criterion), CriterionWriter.Write(resumed.Criterion));
        Assert.Equal(File.ReadAllText(full.CriterionPath), File.ReadAllText(output));
        Assert.Equal(partial.Units.Count - dropped.Count, resumed.UnitsResumed);
        Assert.Equal(dropped.Count, resumed.AblatedForwardsThisRun);                 // one batch of 4, A = 1
        Assert.Contains(log, l => l.Contains("resuming from", StringComparison.Ordinal));
        Assert.False(File.Exists(SweepFiles.PartialPath(output)));
    }

    [Fact]
    public void A_sweep_cancelled_mid_batch_leaves_a_partial_that_completes_to_the_same_criterion()
    {
        using var folder = new SweepFolder();
        var calibration = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sd15, samples: 4);
        var options = new SweepOptions { BatchSize = 2, AblationsPerForward = 2 };
        var full = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, folder.File("full.json"), options));

        // "kill" the run after 10 groups: in the second batch, so units differ in how many samples they have
        var output = folder.File("killed.json");
        using var cancel = new CancellationTokenSource();
        int groups = 0;
        var hooks = new SweepHooks { Cancellation = cancel.Token, Checkpoint = _ => { if (++groups == 10) cancel.Cancel(); } };
        Assert.Throws<OperationCanceledException>(() => SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, output, options), hooks));
        Assert.False(File.Exists(output));
        var partial = SweepFiles.ReadRecord(SweepFiles.PartialPath(output));
        Assert.False(partial.IsComplete);
        Assert.Equal(2, partial.TeacherForwards);

        var resumed = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, output, options));
        Assert.Equal(File.ReadAllText(full.CriterionPath), File.ReadAllText(output));
        Assert.Equal(3, resumed.Record.TeacherForwards);                              // the second batch's teacher ran again
    }

    [Fact]
    public void A_partial_from_other_settings_is_refused_and_left_alone()
    {
        using var folder = new SweepFolder();
        var calibration = SweepTestKit.WriteCalibration(folder.Path, SweepTestKit.Sd15, samples: 2);
        var output = folder.File("c.json");
        var first = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, output, new SweepOptions { BatchSize = 2 }));
        File.Move(first.RecordPath, SweepFiles.PartialPath(output));
        File.Delete(output);
        var before = File.ReadAllText(SweepFiles.PartialPath(output));

        var otherSeed = new SweepOptions { BatchSize = 2, Noising = new() { Seed = 7 } };
        var e = Assert.Throws<InputException>(() => SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, output, otherSeed)));
        Assert.Contains("seed: 0 vs 7", e.Message);
        Assert.Contains("delete the partial file", e.Message);
        Assert.False(File.Exists(output));
        Assert.Equal(before, File.ReadAllText(SweepFiles.PartialPath(output)));

        // batch size is not part of the identity: a different --batch resumes (here: nothing left to do)
        var resumed = SweepRunner.Run(SweepTestKit.Request(SweepTestKit.Sd15, calibration, output, new SweepOptions { BatchSize = 1 }));
        Assert.Equal(0, resumed.TeacherForwardsThisRun);
        Assert.Equal(first.Criterion.Units, resumed.Criterion.Units);
    }
}
