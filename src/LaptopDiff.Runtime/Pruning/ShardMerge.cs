using System.Globalization;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>The merged criterion and record, and where they went.</summary>
public sealed record MergeOutcome(CriterionFile Criterion, SweepRecord Record, string CriterionPath, string RecordPath, int Shards);

/// <summary>
/// Joins the criteria of <c>sweep --shard k/n</c> runs into the full criterion. Each shard's record
/// (<c>SHARD.sweep.json</c>, written by the sweep next to its criterion) says what it measured; the shards
/// must share spec, weights, calibration and noising, use one shard count, and together cover every
/// prunable unit exactly once. The criterion is computed from the merged per-sample losses, so it equals
/// the criterion of one unsharded sweep.
/// </summary>
public static class ShardMerge
{
    public static MergeOutcome Run(IReadOnlyList<string> shardPaths, string outputPath, UNetLayout? layout = null, string? created = null)
    {
        if (shardPaths.Count == 0) throw new InputException("merge needs at least one shard criterion");
        SweepFiles.CheckOutputFolder(outputPath);
        var records = shardPaths.Select(Load).ToList();
        var merged = Merge(shardPaths, records);

        var criterion = SweepCriterion.Build(merged, created ?? DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        if (layout != null)
        {
            var problems = criterion.CheckAgainst(layout);
            if (problems.Count > 0)
                throw new InputException($"the merged criterion does not fit {layout.Spec.Name}: " + string.Join("; ", problems.Select(p => p.Message)));
        }
        var recordPath = SweepFiles.RecordPath(outputPath);
        SweepFiles.WriteText(recordPath, SweepRecordJson.Write(merged));
        SweepFiles.WriteText(outputPath, CriterionWriter.Write(criterion));
        return new MergeOutcome(criterion, merged, outputPath, recordPath, shardPaths.Count);
    }

    /// <summary>One record holding every shard's losses (shard 1/1); throws <see cref="InputException"/> when they do not fit together.</summary>
    public static SweepRecord Merge(IReadOnlyList<string> names, IReadOnlyList<SweepRecord> records)
    {
        var first = records[0];
        for (int i = 1; i < records.Count; i++)
        {
            var d = first.Identity.Differences(records[i].Identity, compareShard: false).ToList();
            if (!records[i].Units.SequenceEqual(first.Units)) d.Add("their specs' prunable units differ");
            if (records[i].Identity.Shard.Count != first.Identity.Shard.Count)
                d.Add($"shard count: {first.Identity.Shard.Count} vs {records[i].Identity.Shard.Count}");
            if (d.Count > 0)
                throw new InputException($"'{names[i]}' was not swept like '{names[0]}', so they cannot be merged: {string.Join("; ", d)}");
        }

        var owner = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < records.Count; i++)
            foreach (var id in records[i].Losses.Keys)
                if (!owner.TryAdd(id, i))
                    throw new InputException($"unit '{id}' is in both '{names[owner[id]]}' and '{names[i]}' " +
                                             $"(shards {records[owner[id]].Identity.Shard} and {records[i].Identity.Shard}); each shard must be given once");
        var missing = first.Units.Where(u => !owner.ContainsKey(u.Id)).ToList();
        if (missing.Count > 0)
        {
            int n = first.Identity.Shard.Count;
            var given = records.Select(r => r.Identity.Shard.Index).ToHashSet();
            var absent = Enumerable.Range(1, n).Where(k => !given.Contains(k)).Select(k => $"{k}/{n}");
            throw new InputException($"the shards do not cover {missing.Count} prunable unit(s) ({string.Join(", ", missing.Take(3).Select(u => u.Id))}" +
                                     $"{(missing.Count > 3 ? ", ..." : "")}); missing shard(s): {string.Join(", ", absent)}");
        }

        var losses = first.Units.ToDictionary(u => u.Id, u => records[owner[u.Id]].LossesOf(u.Id), StringComparer.Ordinal);
        return new SweepRecord(first.Identity with { Shard = SweepShard.All }, first.Units, losses)
        {
            TeacherForwards = records.Sum(r => r.TeacherForwards),
            AblatedForwards = records.Sum(r => r.AblatedForwards),
            ElapsedSeconds = records.Sum(r => r.ElapsedSeconds),
        };
    }

    /// <summary>A shard's record, checked against its criterion file.</summary>
    private static SweepRecord Load(string shardPath)
    {
        if (!File.Exists(shardPath)) throw new FileNotFoundException($"shard criterion '{shardPath}' does not exist", shardPath);
        var (criterion, diagnostics) = CriterionReader.Parse(shardPath, File.ReadAllText(shardPath));
        if (criterion == null) throw new SpecException(diagnostics);
        var recordPath = SweepFiles.RecordPath(shardPath);
        if (!File.Exists(recordPath))
            throw new InputException($"'{recordPath}' is missing: merge needs the sweep record written next to each shard's criterion " +
                                     "(it holds the weights and noising the shard was measured with); copy it along with the criterion");
        var record = SweepFiles.ReadRecord(recordPath);
        if (!record.IsComplete)
            throw new InputException($"'{recordPath}' is an unfinished sweep ({record.CompleteUnits} of {record.Losses.Count} units); finish shard {record.Identity.Shard} first");
        if (criterion.Spec.Hash != record.Identity.SpecHash || criterion.Calibration?.Hash != record.Identity.CalibrationHash
            || !criterion.Units.Select(u => u.Id).SequenceEqual(record.ShardUnits.Select(u => u.Id)))
            throw new InputException($"'{shardPath}' does not match its record '{recordPath}' (spec, calibration or units differ); was one of them replaced?");
        return record;
    }
}
