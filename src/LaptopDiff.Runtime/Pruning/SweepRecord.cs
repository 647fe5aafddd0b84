namespace LaptopDiff.Runtime.Pruning;

/// <summary>A prunable unit of the swept spec: its id and exact parameter count.</summary>
public sealed record SweepUnit(string Id, long Params);

/// <summary>
/// The full state of a sweep: its identity, every prunable unit of the spec, and for the units of its
/// shard the output loss of every calibration sample (null until measured). It is the partial file while
/// the sweep runs (<c>CRITERION.json.partial</c>) and the record kept next to the criterion afterwards
/// (<c>CRITERION.sweep.json</c>): resume and merge read it, and the criterion is computed from it, so a
/// resumed or merged sweep gives the same numbers as an uninterrupted one. JSON: <see cref="SweepRecordJson"/>.
/// </summary>
public sealed class SweepRecord
{
    private readonly Dictionary<string, double?[]> _losses;

    public SweepRecord(SweepIdentity identity, IReadOnlyList<SweepUnit> units, IReadOnlyDictionary<string, double?[]>? losses = null)
    {
        Identity = identity;
        Units = units;
        _losses = new Dictionary<string, double?[]>(StringComparer.Ordinal);
        for (int i = 0; i < units.Count; i++)
        {
            if (!identity.Shard.Contains(i)) continue;
            var measured = losses?.GetValueOrDefault(units[i].Id);
            if (measured != null && measured.Length != identity.Samples)
                throw new ArgumentException($"unit {units[i].Id} has {measured.Length} losses for {identity.Samples} samples");
            _losses[units[i].Id] = measured != null ? (double?[])measured.Clone() : new double?[identity.Samples];
        }
        if (losses != null)
            foreach (var id in losses.Keys)
                if (!_losses.ContainsKey(id))
                    throw new ArgumentException($"'{id}' is not a unit of shard {identity.Shard} of this sweep");
    }

    public SweepIdentity Identity { get; }

    /// <summary>Every prunable unit of the spec in execution order (all shards).</summary>
    public IReadOnlyList<SweepUnit> Units { get; }

    /// <summary>This shard's units, in execution order.</summary>
    public IEnumerable<SweepUnit> ShardUnits => Units.Where((_, i) => Identity.Shard.Contains(i));

    /// <summary>Teacher forwards run so far (all runs of this sweep together).</summary>
    public long TeacherForwards { get; set; }
    /// <summary>Ablated forwards (suffix runs, or full masked forwards for the naive sweep) so far.</summary>
    public long AblatedForwards { get; set; }
    /// <summary>Seconds spent sweeping so far (all runs together; loading excluded).</summary>
    public double ElapsedSeconds { get; set; }

    /// <summary>Per-sample losses of a unit of this shard (null = not measured yet); the array is live.</summary>
    public double?[] LossesOf(string unitId) =>
        _losses.TryGetValue(unitId, out var l) ? l : throw new ArgumentException($"'{unitId}' is not a unit of shard {Identity.Shard} of this sweep");

    public IReadOnlyDictionary<string, double?[]> Losses => _losses;

    /// <summary>Whether samples [start, start + count) of the unit are all measured.</summary>
    public bool IsMeasured(string unitId, int start, int count)
    {
        var l = LossesOf(unitId);
        for (int j = start; j < start + count; j++) if (l[j] is null) return false;
        return true;
    }

    public bool IsUnitComplete(string unitId) => IsMeasured(unitId, 0, Identity.Samples);

    public bool IsComplete => _losses.Keys.All(IsUnitComplete);

    public int CompleteUnits => _losses.Keys.Count(IsUnitComplete);
}
