using System.Globalization;
using LaptopDiff.Runtime.Calibration;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>
/// Everything that decides a sweep's numbers: the spec's structure, the weights, the calibration set,
/// the noising and the shard. A partial result resumes, and shards merge, only when these agree.
/// Paths are recorded for people but never compared (files may move between machines); hashes are.
/// Batch size, ablations per forward and threads are not part of it: they change float rounding only.
/// </summary>
public sealed record SweepIdentity
{
    public string SpecName { get; init; } = "";
    /// <summary><see cref="LaptopDiff.Spec.SpecHash.Compute"/> of the spec.</summary>
    public string SpecHash { get; init; } = "";
    public string WeightsPath { get; init; } = "";
    /// <summary>SHA-256 of the weights file (<see cref="FileDigest"/>).</summary>
    public string WeightsHash { get; init; } = "";
    public string CalibrationPath { get; init; } = "";
    /// <summary>SHA-256 of the calibration file(s) (<see cref="CalibrationSet.Hash"/>).</summary>
    public string CalibrationHash { get; init; } = "";
    public int Samples { get; init; }
    public NoisingSettings Noising { get; init; } = new();
    public SweepShard Shard { get; init; } = SweepShard.All;

    /// <summary>Human-readable differences (empty when the two may be combined).</summary>
    public IReadOnlyList<string> Differences(SweepIdentity other, bool compareShard)
    {
        var d = new List<string>();
        void Check(string what, string mine, string theirs)
        {
            if (!string.Equals(mine, theirs, StringComparison.Ordinal)) d.Add($"{what}: {mine} vs {theirs}");
        }
        Check("spec structure hash", SpecHash, other.SpecHash);
        Check("weights hash", WeightsHash, other.WeightsHash);
        Check("calibration hash", CalibrationHash, other.CalibrationHash);
        Check("calibration samples", Samples.ToString(CultureInfo.InvariantCulture), other.Samples.ToString(CultureInfo.InvariantCulture));
        Check("seed", Noising.Seed.ToString(CultureInfo.InvariantCulture), other.Noising.Seed.ToString(CultureInfo.InvariantCulture));
        Check("noise schedule", Noising.Schedule.ToString(), other.Noising.Schedule.ToString());
        if (compareShard) Check("shard", Shard.ToString(), other.Shard.ToString());
        return d;
    }
}
