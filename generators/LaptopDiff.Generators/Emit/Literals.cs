using System.Globalization;
using System.Linq;
using System.Text;

namespace LaptopDiff.Generators.Emit
{
    /// <summary>C# literals and doc-comment text for generated code, culture-invariant.</summary>
    internal static class Literals
    {
        /// <summary>A regular C# string literal, or <c>null</c>.</summary>
        public static string String(string? s)
        {
            if (s == null) return "null";
            var b = new StringBuilder(s.Length + 2).Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': b.Append("\\\""); break;
                    case '\\': b.Append("\\\\"); break;
                    case '\n': b.Append("\\n"); break;
                    case '\r': b.Append("\\r"); break;
                    case '\t': b.Append("\\t"); break;
                    default:
                        if (char.IsControl(c) || char.IsSurrogate(c) || c == '\u2028' || c == '\u2029' || c == '\u0085')
                            b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else b.Append(c);
                        break;
                }
            }
            return b.Append('"').ToString();
        }

        public static string Bool(bool v) => v ? "true" : "false";

        public static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

        public static string Long(long v) => v.ToString(CultureInfo.InvariantCulture) + "L";

        /// <summary>A double literal that reads back to the same value.</summary>
        public static string Double(double v) => v.ToString("R", CultureInfo.InvariantCulture) + "d";

        /// <summary>A count for reading: 1,106,212.</summary>
        public static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

        public static string Count(long n, string noun) => $"{N(n)} {noun}{(n == 1 ? "" : "s")}";

        public static string Percent(long part, long whole) =>
            whole == 0 ? "0 %" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + " %";

        /// <summary>Text for an XML doc comment: escaped, on one line.</summary>
        public static string Xml(string s) => OneLine(s).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

        /// <summary>Text for a // comment: control characters and line breaks become spaces.</summary>
        public static string OneLine(string s) =>
            new string(s.Select(c => char.IsControl(c) || c == '\u2028' || c == '\u2029' || c == '\u0085' ? ' ' : c).ToArray());
    }
}
