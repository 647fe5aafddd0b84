using System.Globalization;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>How long a demo stage took and when it started (Unix seconds; NaN where an older run did not record it).</summary>
public readonly record struct StageTime(double Seconds, double StartUnixS)
{
    /// <summary>"SECONDS START" as <c>.stages/NAME.seconds</c> holds it.</summary>
    public override string ToString() => FormattableString.Invariant($"{Seconds:R} {StartUnixS:R}");

    /// <summary>Reads <see cref="ToString"/>'s text, or a lone number of seconds (start unknown).</summary>
    public static bool TryParse(string text, out StageTime time)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        time = default;
        if (parts.Length is < 1 or > 2 || !double.TryParse(parts[0], CultureInfo.InvariantCulture, out double seconds)) return false;
        double start = double.NaN;
        if (parts.Length == 2 && !double.TryParse(parts[1], CultureInfo.InvariantCulture, out start)) return false;
        time = new StageTime(seconds, start);
        return true;
    }

    /// <summary>The length of the union of the stages' intervals; a stage without a start counts its whole time.</summary>
    public static double UnionSeconds(IEnumerable<StageTime> times)
    {
        double total = 0, coveredUntil = double.NegativeInfinity;
        foreach (var t in times.OrderBy(t => t.StartUnixS))
        {
            if (double.IsNaN(t.StartUnixS)) { total += t.Seconds; continue; }
            double end = t.StartUnixS + t.Seconds;
            if (end <= coveredUntil) continue;
            total += end - Math.Max(t.StartUnixS, coveredUntil);
            coveredUntil = end;
        }
        return total;
    }
}
