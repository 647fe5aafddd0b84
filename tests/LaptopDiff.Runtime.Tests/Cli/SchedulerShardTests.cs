using LaptopDiff.Cli;
using LaptopDiff.Cli.Commands.Sweep;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// <c>sweep --shard auto</c>: which shard each task of a Slurm job array or a Kubernetes Indexed Job sweeps, and the
/// usage errors for variables that do not say it. Environments are dictionaries here; ClusterSimulationTests runs
/// real processes under them.
/// </summary>
public sealed class SchedulerShardTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.Where(v => v.Name == name).Select(v => v.Value).FirstOrDefault();

    private static SweepShard Auto(int? shards, params (string, string)[] variables) =>
        SchedulerShard.Resolve("auto", shards, Env(variables)).Shard;

    private static string Refused(int? shards, params (string, string)[] variables) =>
        Assert.Throws<OptionValueException>(() => SchedulerShard.Resolve("auto", shards, Env(variables))).Message;

    private static (string, string)[] Slurm(int id, int count, int min, int? step = null, int? max = null) =>
    [
        ("SLURM_ARRAY_TASK_ID", id.ToString()), ("SLURM_ARRAY_TASK_COUNT", count.ToString()), ("SLURM_ARRAY_TASK_MIN", min.ToString()),
        .. step is int s ? new[] { ("SLURM_ARRAY_TASK_STEP", s.ToString()) } : [],
        .. max is int m ? new[] { ("SLURM_ARRAY_TASK_MAX", m.ToString()) } : [],
    ];

    [Theory]
    [InlineData(0, 4, 0, 1, 1)]     // --array=0-3
    [InlineData(3, 4, 0, 1, 4)]
    [InlineData(1, 8, 1, 1, 1)]     // --array=1-8: ids 1..8 are shards 1/8..8/8
    [InlineData(8, 8, 1, 1, 8)]
    [InlineData(5, 4, 1, 2, 3)]     // --array=1-7:2: ids 1, 3, 5, 7
    [InlineData(12, 3, 10, 2, 2)]   // --array=10-14:2
    public void A_Slurm_array_task_sweeps_its_place_in_the_array(int id, int count, int min, int step, int shard)
    {
        Assert.Equal(new SweepShard(shard, count), Auto(null, Slurm(id, count, min, step, max: min + step * (count - 1))));
        Assert.Equal(new SweepShard(shard, count), Auto(count, Slurm(id, count, min, step)));   // --shards, if given, must agree
    }

    [Fact]
    public void Every_task_of_a_one_based_array_gets_a_different_shard()
    {
        var shards = Enumerable.Range(1, 8).Select(id => Auto(null, Slurm(id, 8, 1, max: 8))).ToList();
        Assert.Equal(Enumerable.Range(1, 8).Select(k => new SweepShard(k, 8)), shards);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 3)]
    public void A_Kubernetes_completion_index_is_shard_index_plus_one_of_shards(int index, int shard) =>
        Assert.Equal(new SweepShard(shard, 3), Auto(3, ("JOB_COMPLETION_INDEX", index.ToString())));

    [Fact]
    public void The_source_is_said_for_the_log()
    {
        Assert.Equal("Slurm array task 5: SLURM_ARRAY_TASK_MIN=1, step 2, 4 tasks", SchedulerShard.Resolve("auto", null, Env(Slurm(5, 4, 1, 2))).Source);
        Assert.Equal("Kubernetes Indexed Job: JOB_COMPLETION_INDEX=2, --shards 3", SchedulerShard.Resolve("auto", 3, Env(("JOB_COMPLETION_INDEX", "2"))).Source);
        Assert.Equal(new ResolvedShard(new SweepShard(2, 5), "as given"), SchedulerShard.Resolve("2/5", null, Env(Slurm(1, 4, 0))));
    }

    [Fact]
    public void Missing_Slurm_variables_are_named()
    {
        Assert.Contains("SLURM_ARRAY_TASK_COUNT is not set (set: SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_MIN=1)",
            Refused(null, ("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "1")));
        Assert.Contains("SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_MIN are not set (set: SLURM_ARRAY_TASK_COUNT=4)",
            Refused(null, ("SLURM_ARRAY_TASK_COUNT", "4")));
        Assert.Contains("this Slurm job is not a job array (SLURM_JOB_ID is set, SLURM_ARRAY_TASK_ID is not)",
            Refused(null, ("SLURM_JOB_ID", "77")));
    }

    [Fact]
    public void Slurm_ids_outside_the_array_and_uneven_arrays_are_refused()
    {
        Assert.Contains("SLURM_ARRAY_TASK_ID=9 is not one of the array's 8 task ids 1, 2, ..., 8", Refused(null, Slurm(9, 8, 1)));
        Assert.Contains("SLURM_ARRAY_TASK_ID=0 is not one of the array's 8 task ids 1, 2, ..., 8", Refused(null, Slurm(0, 8, 1)));
        Assert.Contains("SLURM_ARRAY_TASK_ID=4 is not one of the array's 4 task ids 1, 3, ..., 7", Refused(null, Slurm(4, 4, 1, step: 2)));
        Assert.Contains("not evenly spaced (SLURM_ARRAY_TASK_COUNT=3, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_MAX=9)", Refused(null, Slurm(2, 3, 1, max: 9)));
        Assert.Contains("--shards 4 disagrees with the Slurm array's SLURM_ARRAY_TASK_COUNT=3", Refused(4, Slurm(1, 3, 1)));
        Assert.Contains("SLURM_ARRAY_TASK_COUNT='0' is not a whole number of at least 1", Refused(null, Slurm(0, 0, 0)));
        Assert.Contains("SLURM_ARRAY_TASK_ID='x' is not a whole number", Refused(null, ("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "2"), ("SLURM_ARRAY_TASK_MIN", "0")));
    }

    [Fact]
    public void A_Kubernetes_index_needs_shards_and_must_lie_below_it()
    {
        Assert.Contains("JOB_COMPLETION_INDEX=2 (a Kubernetes Indexed Job) gives no shard count; add --shards N, equal to the Job's spec.completions",
            Refused(null, ("JOB_COMPLETION_INDEX", "2")));
        Assert.Contains("JOB_COMPLETION_INDEX=3 is outside --shards 3 (indexes 0 to 2)", Refused(3, ("JOB_COMPLETION_INDEX", "3")));
        Assert.Contains("JOB_COMPLETION_INDEX='-1' is not a whole number", Refused(3, ("JOB_COMPLETION_INDEX", "-1")));
    }

    [Fact]
    public void Both_schedulers_or_none_are_refused()
    {
        var both = Refused(3, [.. Slurm(1, 3, 1), ("JOB_COMPLETION_INDEX", "0")]);
        Assert.Contains("two schedulers", both);
        Assert.Contains("SLURM_ARRAY_TASK_ID=1", both);
        Assert.Contains("JOB_COMPLETION_INDEX=0", both);
        Assert.Contains("found no scheduler", Refused(null));
        Assert.Contains("found no scheduler", Refused(null, ("SLURM_ARRAY_TASK_ID", "")));   // empty is unset, as in a shell
    }

    [Fact]
    public void Shards_below_one_is_an_input_error()
    {
        var (code, _, stderr) = CliRunner.Run("sweep", "--spec", "s.unet.yaml", "--weights", "w", "--calibration", "c", "--output", "o.json", "--shard", "auto", "--shards", "0");
        Assert.Equal(2, code);
        Assert.Contains("--shards must be at least 1, got 0", stderr);
    }

    [Fact]
    public void Shards_goes_only_with_auto_and_k_of_n_stays_the_runtimes_setting()
    {
        Assert.Contains("--shards goes with --shard auto", Assert.Throws<UsageException>(() => SchedulerShard.Resolve("1/2", 2, Env())).Message);
        Assert.Equal(nameof(SweepOptions.Shard), Assert.Throws<SettingException>(() => SchedulerShard.Resolve("3/2", null, Env())).Setting);
    }
}
