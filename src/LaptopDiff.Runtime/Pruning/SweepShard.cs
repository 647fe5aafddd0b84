using System.Globalization;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>
/// Shard k of n (1-based): the prunable units whose position i in execution order has i % n == k - 1.
/// Deterministic, so any job scheduler can run the n shards anywhere and <see cref="ShardMerge"/> joins them.
/// </summary>
public readonly record struct SweepShard(int Index, int Count)
{
    /// <summary>The whole sweep (1/1).</summary>
    public static SweepShard All => new(1, 1);

    public bool IsAll => Count == 1;

    /// <summary>Whether the prunable unit at position <paramref name="unitPosition"/> (0-based, execution order) is in this shard.</summary>
    public bool Contains(int unitPosition) => unitPosition % Count == Index - 1;

    /// <summary>Parses <c>k/n</c> with 1 &lt;= k &lt;= n; anything else is a <see cref="SettingException"/>.</summary>
    public static SweepShard Parse(string text)
    {
        var parts = (text ?? "").Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new SettingException(nameof(SweepOptions.Shard), text, "must be k/n, e.g. 1/4 for the first of four shards");
        if (n < 1 || k < 1 || k > n)
            throw new SettingException(nameof(SweepOptions.Shard), text,
                $"must have a shard number between 1 and the shard count (1/{Math.Max(n, 1)} ... {Math.Max(n, 1)}/{Math.Max(n, 1)})");
        return new SweepShard(k, n);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
