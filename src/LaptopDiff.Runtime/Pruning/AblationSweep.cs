using System.Diagnostics;
using LaptopDiff.Runtime.Calibration;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>Callbacks of a running sweep.</summary>
public sealed record SweepHooks
{
    /// <summary>The loss reduction; when null, <see cref="SweepRunner"/> picks it from <see cref="SweepRequest.Kernels"/> and
    /// <see cref="AblationSweep.Run"/> takes the plain TorchSharp one.</summary>
    public IAblationLossReducer? Reducer { get; init; }
    /// <summary>Called after every group of ablations with the updated record (the runner saves the partial file here).</summary>
    public Action<SweepRecord>? Checkpoint { get; init; }
    public Action<SweepProgress>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// The ablation sweep (DESIGN "The method" 2): for every prunable unit i of the record's shard,
/// s_i = mean over calibration samples of the per-sample output loss
/// <c>MSE_b = mean over elements of (eps_{-i}(x_b) - eps_T(x_b))^2</c>, and its standard error
/// (sample standard deviation / sqrt(N)). Runs in inference mode, batch by batch; fills the record's
/// missing per-sample losses only, so it resumes wherever a previous run stopped.
/// </summary>
public static class AblationSweep
{
    /// <summary>Measures every missing (unit, sample) of <paramref name="record"/>. The model must hold the teacher's weights; it runs
    /// where it lies (<see cref="UNet2DCondition.Device"/>), the set's batches moved there.</summary>
    public static void Run(UNet2DCondition model, CalibrationSet set, SweepRecord record, SweepOptions options, SweepHooks? hooks = null)
    {
        hooks ??= new SweepHooks();
        options.Validate();
        if (set.Count != record.Identity.Samples)
            throw new ArgumentException($"the record is for {record.Identity.Samples} samples, the calibration set has {set.Count}");
        var plan = model.Plan;
        var reducer = hooks.Reducer ?? new TorchLossReducer();
        BatchAblator ablator = options.Strategy == SweepStrategy.Naive
            ? new NaiveAblator(model, reducer)
            : new PrefixCachedAblator(model, reducer, options.AblationsPerForward);
        var noising = new CalibrationNoising(set.Count, record.Identity.Noising);

        var shardUnits = record.ShardUnits.Select(u => (u.Id, Index: plan.UnitIndexOf(u.Id))).ToList();
        int batches = (set.Count + options.BatchSize - 1) / options.BatchSize;
        var todo = Enumerable.Range(0, batches).Select(b =>
        {
            int start = b * options.BatchSize, count = Math.Min(options.BatchSize, set.Count - start);
            return (Start: start, Count: count, Units: shardUnits.Where(u => !record.IsMeasured(u.Id, start, count)).ToList());
        }).ToList();
        int total = todo.Sum(b => b.Units.Count), done = 0;
        long perSample = model.Layout.Spec.OutChannels * set.Latents.shape[2] * set.Latents.shape[3];   // output elements per sample: Cout*H*W

        var watch = Stopwatch.StartNew();
        double elapsedBefore = record.ElapsedSeconds;
        using var _ = torch.inference_mode();
        for (int b = 0; b < todo.Count; b++)
        {
            var (start, count, units) = todo[b];
            if (units.Count == 0) continue;
            hooks.Cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var inputs = noising.Inputs(set, start, count).To(model.Device);                // made on the CPU, run on the model's device
            long teacherBefore = ablator.TeacherForwards, ablatedBefore = ablator.AblatedForwards;
            ablator.Run(inputs, units.Select(u => u.Index).ToList(), (group, sums) =>
            {
                for (int a = 0; a < group.Count; a++)
                {
                    var losses = record.LossesOf(plan.Units[group[a]].Id);
                    for (int j = 0; j < count; j++) losses[start + j] = sums[a * count + j] / perSample;
                }
                record.TeacherForwards += ablator.TeacherForwards - teacherBefore;
                record.AblatedForwards += ablator.AblatedForwards - ablatedBefore;
                teacherBefore = ablator.TeacherForwards;
                ablatedBefore = ablator.AblatedForwards;
                record.ElapsedSeconds = elapsedBefore + watch.Elapsed.TotalSeconds;
                done += group.Count;
                hooks.Checkpoint?.Invoke(record);
                hooks.Progress?.Invoke(new SweepProgress(b + 1, batches, plan.Units[group[^1]].Id, done, total,
                    record.CompleteUnits, shardUnits.Count, watch.Elapsed));
                hooks.Cancellation.ThrowIfCancellationRequested();
            });
        }
        record.ElapsedSeconds = elapsedBefore + watch.Elapsed.TotalSeconds;
    }
}
