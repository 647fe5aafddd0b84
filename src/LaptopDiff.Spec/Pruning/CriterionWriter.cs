using System.Globalization;
using System.Linq;
using System.Text;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Writes a <see cref="CriterionFile"/> as JSON, one unit per line: invariant culture, doubles in
    /// round-trip form, LF line ends, so the same measurements always give the same bytes (and hash).
    /// Non-finite numbers are written as <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c> (as Python's json
    /// does) so a broken sweep stays visible; <see cref="CriterionFile.CheckAgainst"/> rejects them.
    /// </summary>
    public static class CriterionWriter
    {
        public static string Write(CriterionFile file)
        {
            var w = new StringBuilder();
            w.Append("{\n");
            w.Append("  \"format\": ").Append(Str(CriterionFile.CurrentFormat)).Append(",\n");
            w.Append("  \"criterion\": ").Append(Str(file.Criterion)).Append(",\n");
            w.Append("  \"spec\": { \"name\": ").Append(Str(file.Spec.Name)).Append(", \"hash\": ").Append(Str(file.Spec.Hash)).Append(" },\n");
            if (file.Calibration is CriterionCalibration c)
            {
                var fields = new[]
                {
                    c.Path == null ? null : "\"path\": " + Str(c.Path),
                    c.Hash == null ? null : "\"hash\": " + Str(c.Hash),
                    c.Samples == null ? null : "\"samples\": " + c.Samples.Value.ToString(CultureInfo.InvariantCulture),
                    c.Seed == null ? null : "\"seed\": " + c.Seed.Value.ToString(CultureInfo.InvariantCulture),
                    c.Timesteps.Count == 0 ? null : "\"timesteps\": [" + string.Join(", ", c.Timesteps.Select(t => t.ToString(CultureInfo.InvariantCulture))) + "]",
                }.Where(f => f != null);
                w.Append("  \"calibration\": { ").Append(string.Join(", ", fields)).Append(" },\n");
            }
            if (file.Created != null) w.Append("  \"created\": ").Append(Str(file.Created)).Append(",\n");
            w.Append("  \"units\": [");
            for (int i = 0; i < file.Units.Count; i++)
            {
                var u = file.Units[i];
                w.Append(i == 0 ? "\n" : ",\n");
                w.Append("    { \"id\": ").Append(Str(u.Id))
                 .Append(", \"params\": ").Append(u.Params.ToString(CultureInfo.InvariantCulture))
                 .Append(", \"loss\": ").Append(Number(u.Loss));
                if (u.StdErr is double e) w.Append(", \"stderr\": ").Append(Number(e));
                if (u.Samples is int n) w.Append(", \"samples\": ").Append(n.ToString(CultureInfo.InvariantCulture));
                w.Append(" }");
            }
            w.Append(file.Units.Count > 0 ? "\n  ]\n" : "]\n");
            w.Append("}\n");
            return w.ToString();
        }

        /// <summary>A double in JSON form that reads back to the same bits (<c>R</c>, invariant).</summary>
        public static string Number(double v)
        {
            if (double.IsNaN(v)) return "NaN";
            if (double.IsPositiveInfinity(v)) return "Infinity";
            if (double.IsNegativeInfinity(v)) return "-Infinity";
            return v.ToString("R", CultureInfo.InvariantCulture);
        }

        /// <summary>A JSON string literal; control characters are escaped, other text is written as is (UTF-8).</summary>
        public static string Str(string s)
        {
            var b = new StringBuilder(s.Length + 2).Append('"');
            for (int i = 0; i < s.Length; i++)
            {
                char ch = s[i];
                if (char.IsHighSurrogate(ch) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                {
                    b.Append(ch).Append(s[++i]);   // a pair: one character outside the BMP, written as UTF-8
                    continue;
                }
                switch (ch)
                {
                    case '"': b.Append("\\\""); break;
                    case '\\': b.Append("\\\\"); break;
                    case '\n': b.Append("\\n"); break;
                    case '\r': b.Append("\\r"); break;
                    case '\t': b.Append("\\t"); break;
                    default:
                        // C0/C1 controls and DEL, line separators, and what a YAML reader refuses raw (lone surrogates, U+FEFF, U+FFFE/F)
                        if (ch < 0x20 || (ch >= 0x7F && ch <= 0x9F) || ch == '\u2028' || ch == '\u2029' || ch == '\uFEFF' || ch >= '\uFFFE'
                            || char.IsSurrogate(ch))
                            b.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                        else b.Append(ch);
                        break;
                }
            }
            return b.Append('"').ToString();
        }
    }
}
