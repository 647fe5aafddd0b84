using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>One pruning ratio as written: its text and its value, or what is wrong with it.</summary>
    public sealed record RatioEntry(string Text, double? Value, string? Problem);

    /// <summary>
    /// Pruning ratios as users write them (<c>prune --ratio 0.3,0.5</c>, <c>Ratios="0.3;0.5"</c>): fractions in (0, 1),
    /// none twice. One reading for every front end; each says the problems in its own words around these.
    /// </summary>
    public static class PruneRatios
    {
        /// <summary>Every value of <paramref name="texts"/>, split on <paramref name="separators"/>, empty pieces dropped, in order.</summary>
        public static IReadOnlyList<RatioEntry> Parse(IEnumerable<string> texts, params char[] separators)
        {
            var result = new List<RatioEntry>();
            foreach (var text in texts.SelectMany(t => t.Split(separators)).Select(t => t.Trim()).Where(t => t.Length > 0))
            {
                string? problem = null;
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) || double.IsNaN(r) || double.IsInfinity(r))
                    problem = $"'{text}' is not a number";
                else if (!(r > 0 && r < 1))
                    problem = $"pruning ratio {text} must be between 0 and 1, exclusive (the fraction of the U-Net's parameters to remove)";
                else if (result.Any(e => e.Value == r))
                    problem = $"ratio {text} is given twice";
                result.Add(new RatioEntry(text, problem == null ? r : (double?)null, problem));
            }
            return result;
        }

        /// <summary>ratio * 100 truncated, in decimal so 0.29 gives 29 (the double product is 28.999...): how pruned classes and files are named.</summary>
        public static int Percent(double ratio) =>
            (int)decimal.Truncate(decimal.Parse(ratio.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture) * 100);
    }
}
