using System.Globalization;
using LaptopDiff.Runtime.Pruning;

namespace LaptopDiff.Cli.Commands.Sweep;

/// <summary>The shard a sweep runs and where it came from (said in the sweep's log).</summary>
public sealed record ResolvedShard(SweepShard Shard, string Source);

/// <summary>
/// <c>--shard</c> as given: <c>k/n</c>, or <c>auto</c>, this task's place in a cluster scheduler's array of tasks,
/// read from the variables the scheduler sets. A Slurm job array (<c>sbatch --array=MIN-MAX[:STEP]</c>) gives the
/// task's id, the array's lowest id, step and task count; a Kubernetes Indexed Job gives only the 0-based
/// <c>JOB_COMPLETION_INDEX</c>, so its count (the Job's <c>spec.completions</c>) comes from <c>--shards</c>.
/// Variables that are missing, inconsistent or from both schedulers are a usage error naming them: a wrong guess
/// would sweep the wrong units, found only when <c>merge</c> reports a gap or an overlap.
/// </summary>
public static class SchedulerShard
{
    public const string Auto = "auto";

    public const string SlurmTaskId = "SLURM_ARRAY_TASK_ID";
    public const string SlurmTaskCount = "SLURM_ARRAY_TASK_COUNT";
    public const string SlurmTaskMin = "SLURM_ARRAY_TASK_MIN";
    public const string SlurmTaskMax = "SLURM_ARRAY_TASK_MAX";
    public const string SlurmTaskStep = "SLURM_ARRAY_TASK_STEP";
    public const string SlurmJobId = "SLURM_JOB_ID";
    public const string KubernetesIndex = "JOB_COMPLETION_INDEX";

    private static readonly string[] SlurmArrayVariables = [SlurmTaskId, SlurmTaskCount, SlurmTaskMin, SlurmTaskMax, SlurmTaskStep];

    /// <summary>
    /// The shard for <paramref name="shard"/> (<c>k/n</c> or <c>auto</c>) and <paramref name="shards"/> (<c>--shards</c>,
    /// only with <c>auto</c>), reading variables through <paramref name="environment"/> (unset or empty: null).
    /// A malformed <c>k/n</c> is the runtime's <see cref="Runtime.Inputs.SettingException"/>; the rest <see cref="UsageException"/>.
    /// </summary>
    public static ResolvedShard Resolve(string shard, int? shards, Func<string, string?> environment)
    {
        if (shards is < 1) throw new OptionValueException($"--shards must be at least 1, got {shards}");
        if (!string.Equals(shard, Auto, StringComparison.Ordinal))
        {
            if (shards != null)
                throw new UsageException($"--shards goes with --shard auto (the count a Kubernetes Indexed Job does not give); with --shard {shard} the count is its n");
            return new ResolvedShard(SweepShard.Parse(shard), "as given");
        }

        string? Get(string name) => environment(name) is { Length: > 0 } v ? v : null;
        var slurmSet = SlurmArrayVariables.Where(n => Get(n) != null).ToList();
        bool kubernetes = Get(KubernetesIndex) != null;
        if (slurmSet.Count > 0 && kubernetes)
            throw new OptionValueException($"--shard auto found the variables of two schedulers, Slurm's ({Show(slurmSet, Get)}) and Kubernetes' ({Show([KubernetesIndex], Get)}); " +
                                     "run under one of them, or give --shard k/n");
        if (kubernetes) return FromKubernetes(Get, shards);
        if (slurmSet.Count > 0) return FromSlurm(Get, shards);
        if (Get(SlurmJobId) != null)
            throw new OptionValueException($"--shard auto: this Slurm job is not a job array ({SlurmJobId} is set, {SlurmTaskId} is not); submit it with sbatch --array=1-N, or give --shard k/n");
        throw new OptionValueException($"--shard auto found no scheduler: it reads a Slurm job array's {SlurmTaskId}, {SlurmTaskCount} and {SlurmTaskMin}, " +
                                 $"or a Kubernetes Indexed Job's {KubernetesIndex} with --shards N; none is set. Elsewhere give --shard k/n");
    }

    /// <summary>Array tasks MIN, MIN+STEP, ..., MIN+(COUNT-1)*STEP are shards 1/COUNT ... COUNT/COUNT.</summary>
    private static ResolvedShard FromSlurm(Func<string, string?> get, int? shards)
    {
        var missing = new[] { SlurmTaskId, SlurmTaskCount, SlurmTaskMin }.Where(n => get(n) == null).ToList();
        if (missing.Count > 0)
            throw new OptionValueException($"--shard auto needs a Slurm job array's {SlurmTaskId}, {SlurmTaskCount} and {SlurmTaskMin}; " +
                                     $"{string.Join(" and ", missing)} {(missing.Count == 1 ? "is" : "are")} not set " +
                                     $"(set: {Show(SlurmArrayVariables.Where(n => get(n) != null), get)})");
        int id = Integer(get, SlurmTaskId, min: 0);
        int count = Integer(get, SlurmTaskCount, min: 1);
        int first = Integer(get, SlurmTaskMin, min: 0);
        int step = get(SlurmTaskStep) != null ? Integer(get, SlurmTaskStep, min: 1) : 1;
        if (get(SlurmTaskMax) != null && Integer(get, SlurmTaskMax, min: 0) != first + (long)step * (count - 1))
            throw new OptionValueException($"--shard auto: the Slurm array's ids are not evenly spaced ({Show(SlurmArrayVariables.Skip(1), get)}), " +
                                     "as from --array=1,2,9; submit --array=1-N (or MIN-MAX:STEP), or give --shard k/n");
        long offset = (long)id - first;
        if (offset < 0 || offset % step != 0 || offset / step >= count)
            throw new OptionValueException($"--shard auto: {SlurmTaskId}={id} is not one of the array's {count} task ids " +
                                     $"{first}{(count > 1 ? $", {first + step}, ..., {first + (long)step * (count - 1)}" : "")} " +
                                     $"({Show(SlurmArrayVariables.Skip(1), get)})");
        if (shards != null && shards != count)
            throw new OptionValueException($"--shards {shards} disagrees with the Slurm array's {SlurmTaskCount}={count}; drop --shards or make them equal");
        int index = (int)(offset / step);
        return new ResolvedShard(new SweepShard(index + 1, count), $"Slurm array task {id}: {SlurmTaskMin}={first}, step {step}, {count} tasks");
    }

    /// <summary>Completion index i (0-based) of a Job with --shards completions is shard i+1/--shards.</summary>
    private static ResolvedShard FromKubernetes(Func<string, string?> get, int? shards)
    {
        int index = Integer(get, KubernetesIndex, min: 0);
        if (shards is not int count)
            throw new OptionValueException($"--shard auto: {KubernetesIndex}={index} (a Kubernetes Indexed Job) gives no shard count; " +
                                     "add --shards N, equal to the Job's spec.completions");
        if (index >= count)
            throw new OptionValueException($"--shard auto: {KubernetesIndex}={index} is outside --shards {count} (indexes 0 to {count - 1}); " +
                                     "--shards must equal the Job's spec.completions");
        return new ResolvedShard(new SweepShard(index + 1, count), $"Kubernetes Indexed Job: {KubernetesIndex}={index}, --shards {count}");
    }

    private static int Integer(Func<string, string?> get, string name, int min)
    {
        var text = get(name)!;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min)
            throw new OptionValueException($"--shard auto: {name}='{text}' is not {(min == 0 ? "a whole number" : $"a whole number of at least {min}")}");
        return value;
    }

    private static string Show(IEnumerable<string> names, Func<string, string?> get) =>
        string.Join(", ", names.Where(n => get(n) != null).Select(n => $"{n}={get(n)}"));
}
