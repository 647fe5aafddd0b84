using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// Which pruning units a forward skips: one bool per entry of <see cref="ExecutionPlan.Units"/>. A
/// skipped ResNet or transformer (block) is identity; a skipped up-stage ResNet still pops and drops the
/// skip it would have consumed. Only prunable units may be skipped. Immutable.
/// </summary>
public sealed class UnitMask : IEquatable<UnitMask>
{
    private readonly bool[] _skip;

    internal UnitMask(IReadOnlyList<LayoutComponent> units, bool[] skip)
    {
        if (skip.Length != units.Count)
            throw new ArgumentException($"a mask needs one entry per unit ({units.Count}), got {skip.Length}", nameof(skip));
        for (int i = 0; i < skip.Length; i++)
            if (skip[i] && !units[i].Prunable)
                throw new ArgumentException($"unit '{units[i].Id}' cannot be skipped: {units[i].Reason}", nameof(skip));
        Units = units;
        _skip = skip;
    }

    public IReadOnlyList<LayoutComponent> Units { get; }

    public int Count => _skip.Length;

    public bool this[int unit] => _skip[unit];

    public bool IsEmpty => !_skip.Contains(true);

    /// <summary>Ids of the skipped units, in execution order.</summary>
    public IEnumerable<string> SkippedIds => Units.Where((_, i) => _skip[i]).Select(u => u.Id);

    /// <summary>A copy of the bools, one per unit.</summary>
    public bool[] ToArray() => (bool[])_skip.Clone();

    /// <summary>This mask with the given unit ids also skipped.</summary>
    public UnitMask With(params string[] ids)
    {
        var skip = ToArray();
        foreach (var id in ids) skip[IndexOf(id)] = true;
        return new UnitMask(Units, skip);
    }

    /// <summary>This mask with the given unit ids run again.</summary>
    public UnitMask Without(params string[] ids)
    {
        var skip = ToArray();
        foreach (var id in ids) skip[IndexOf(id)] = false;
        return new UnitMask(Units, skip);
    }

    private int IndexOf(string id)
    {
        for (int i = 0; i < Units.Count; i++)
            if (Units[i].Id == id) return i;
        var examples = string.Join(", ", Units.Take(3).Select(u => u.Id));
        throw new ArgumentException($"'{id}' is not a unit of this model; units are ids such as {examples}", nameof(id));
    }

    public bool Equals(UnitMask? other) => other != null && ReferenceEquals(Units, other.Units) && _skip.AsSpan().SequenceEqual(other._skip);

    public override bool Equals(object? obj) => Equals(obj as UnitMask);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var b in _skip) h.Add(b);
        return h.ToHashCode();
    }

    public override string ToString() => IsEmpty ? "(no units skipped)" : string.Join(", ", SkippedIds);
}
