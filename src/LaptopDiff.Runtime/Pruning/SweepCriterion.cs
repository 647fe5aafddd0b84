using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>Turns a (complete) sweep record into the criterion file the knapsack reads.</summary>
public static class SweepCriterion
{
    /// <summary>
    /// One entry per unit of the record's shard, in execution order: loss = mean of the per-sample losses,
    /// stderr = their sample standard deviation / sqrt(N) (omitted for N = 1), both summed in sample order, so
    /// the same per-sample losses always give the same bits (a resumed or merged sweep equals a plain one).
    /// </summary>
    public static CriterionFile Build(SweepRecord record, string? created)
    {
        if (!record.IsComplete)
            throw new InvalidOperationException($"the sweep has {record.CompleteUnits} of {record.Losses.Count} units complete; finish it first");
        var id = record.Identity;
        var units = record.ShardUnits.Select(u =>
        {
            var (mean, stderr) = MeanAndStdErr(record.LossesOf(u.Id));
            return new CriterionUnit { Id = u.Id, Params = u.Params, Loss = mean, StdErr = stderr, Samples = id.Samples };
        });
        return new CriterionFile
        {
            Criterion = CriterionFile.OutputLoss,
            Spec = new CriterionSpecRef { Name = id.SpecName, Hash = id.SpecHash },
            Calibration = new CriterionCalibration
            {
                Path = id.CalibrationPath,
                Hash = id.CalibrationHash,
                Samples = id.Samples,
                Seed = id.Noising.Seed,
                Timesteps = new CalibrationNoising(id.Samples, id.Noising).Timesteps.ToEquatableArray(),
            },
            Created = created,
            Units = units.ToEquatableArray(),
        };
    }

    public static (double Mean, double? StdErr) MeanAndStdErr(IReadOnlyList<double?> losses)
    {
        int n = losses.Count;
        double sum = 0;
        foreach (var v in losses) sum += v!.Value;
        double mean = sum / n;
        if (n < 2) return (mean, null);
        double squares = 0;
        foreach (var v in losses) squares += (v!.Value - mean) * (v.Value - mean);
        return (mean, Math.Sqrt(squares / (n - 1) / n));
    }
}
