using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Reads one mapping of a spec (YAML) or criterion file (JSON) with typed getters. Every problem becomes a
    /// positioned diagnostic instead of an exception, and keys nobody asked for are reported as unknown (a typo
    /// must not be ignored). A <c>null</c>, <c>~</c> or empty value counts as absent; numbers must be unquoted.
    /// </summary>
    internal sealed class YamlMapReader
    {
        private readonly YamlMappingNode _node;
        private readonly string _path;
        private readonly string _context;
        private readonly bool _isRoot;
        private readonly YamlDialect _dialect;
        private readonly List<SpecDiagnostic> _diagnostics;
        private readonly List<string> _known = new List<string>();   // in the order asked, for messages

        public YamlMapReader(YamlMappingNode node, string path, string context, bool isRoot, YamlDialect dialect, List<SpecDiagnostic> diagnostics)
        {
            _node = node;
            _path = path;
            _context = context;
            _isRoot = isRoot;
            _dialect = dialect;
            _diagnostics = diagnostics;
        }

        public SourceSpan Span => SpanOf(_node);

        /// <summary>Diagnostics reported so far in this file.</summary>
        public int ProblemCount => _diagnostics.Count;

        public bool Has(string key) => Node(key) != null;

        public YamlNode? Node(string key)
        {
            if (!_known.Contains(key)) _known.Add(key);
            var value = Find(key)?.Value;
            return value is YamlScalarNode s && s.Style == ScalarStyle.Plain && (s.Value is null || s.Value == "" || s.Value == "null" || s.Value == "~")
                ? null : value;
        }

        public string? String(string key, bool required = false)
        {
            var node = Node(key);
            if (node == null) { if (required) Missing(key); return null; }
            if (node is YamlScalarNode s && !string.IsNullOrEmpty(s.Value)) return s.Value;
            Invalid(node, $"'{key}' in {_context} must be a non-empty string, got {Text(node)}");
            return null;
        }

        /// <summary>
        /// No width, count or size in a U-Net comes near this; larger values (a typo, a fuzzed file) would
        /// overflow parameter arithmetic or make the layout expansion run out of memory.
        /// </summary>
        public const int MaxValue = 1 << 20;

        public int? Int(string key, bool required = false, int min = int.MinValue, int max = MaxValue) =>
            (int?)Long(key, required, min, max);

        public long? Long(string key, bool required = false, long min = long.MinValue, long max = long.MaxValue)
        {
            var node = Node(key);
            if (node == null) { if (required) Missing(key); return null; }
            return ParseLong(node, key, min, max);
        }

        /// <summary>
        /// A number; <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c> (and YAML's <c>.nan</c>, <c>.inf</c>) are read as such,
        /// so a check can name what they belong to. A quoted string is not a number.
        /// </summary>
        public double? Number(string key, bool required = false)
        {
            var node = Node(key);
            if (node == null) { if (required) Missing(key); return null; }
            if (node is YamlScalarNode s && s.Style == ScalarStyle.Plain && s.Value != null)
            {
                switch (s.Value)
                {
                    case "NaN": case ".nan": case ".NaN": case ".NAN": return double.NaN;
                    case "Infinity": case "+Infinity": case ".inf": case "+.inf": case ".Inf": case "+.Inf": case ".INF": case "+.INF": return double.PositiveInfinity;
                    case "-Infinity": case "-.inf": case "-.Inf": case "-.INF": return double.NegativeInfinity;
                }
                if ((!_dialect.JsonNumbers || IsJsonNumber(s.Value))
                    && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    return v;
            }
            Invalid(node, $"'{key}' in {_context} must be a number, got {Text(node)}");
            return null;
        }

        public double? FiniteNumber(string key)
        {
            var v = Number(key);
            if (v == null || !(double.IsNaN(v.Value) || double.IsInfinity(v.Value))) return v;
            Invalid(Node(key)!, $"'{key}' in {_context} must be a finite number, got {Text(Node(key)!)}");
            return null;
        }

        public bool? Bool(string key)
        {
            var node = Node(key);
            if (node == null) return null;
            if (node is YamlScalarNode s && s.Style == ScalarStyle.Plain)
            {
                switch ((s.Value ?? "").ToLowerInvariant())
                {
                    case "true": return true;
                    case "false": return false;
                }
            }
            Invalid(node, $"'{key}' in {_context} must be true or false, got {Text(node)}");
            return null;
        }

        /// <summary>An int, or a list of ints; a single int is returned as a one-element list.</summary>
        public List<int>? IntOrList(string key, int min, int max = MaxValue)
        {
            var node = Node(key);
            if (node == null) return null;
            if (!(node is YamlSequenceNode seq))
                return ParseLong(node, key, min, max) is long single ? new List<int> { (int)single } : null;
            var values = new List<int>();
            foreach (var item in seq.Children)
            {
                if (!(ParseLong(item, key, min, max) is long v)) return null;
                values.Add((int)v);
            }
            return values;
        }

        /// <summary>A list of integers; absent, it is empty.</summary>
        public List<long> LongList(string key, long min, long max, string example)
        {
            var result = new List<long>();
            var node = Node(key);
            if (node == null) return result;
            if (!(node is YamlSequenceNode seq))
            {
                Invalid(node, $"'{key}' in {_context} must be a list of integers such as {example}");
                return result;
            }
            foreach (var item in seq.Children)
                if (ParseLong(item, key, min, max) is long v) result.Add(v);
            return result;
        }

        public List<(string Value, SourceSpan Span)> StringList(string key)
        {
            var result = new List<(string, SourceSpan)>();
            var node = Node(key);
            if (node == null) return result;
            if (node is YamlSequenceNode seq)
            {
                foreach (var item in seq.Children)
                {
                    if (item is YamlScalarNode s && !string.IsNullOrEmpty(s.Value)) result.Add((s.Value!, SpanOf(s)));
                    else Invalid(item, $"'{key}' in {_context} must list unit ids such as down_blocks.1.resnets.0");
                }
            }
            else Invalid(node, $"'{key}' in {_context} must be a list");
            return result;
        }

        public YamlMapReader? Map(string key, bool required = false)
        {
            var node = Node(key);
            if (node == null) { if (required) Missing(key); return null; }
            if (node is YamlMappingNode m) return new YamlMapReader(m, _path, _isRoot ? key : $"{_context}.{key}", isRoot: false, _dialect, _diagnostics);
            Invalid(node, $"'{key}' in {_context} must be {_dialect.ObjectNoun}");
            return null;
        }

        /// <summary>A list of mappings, each read in the context <c>key[i]</c>; null when absent or not a list.</summary>
        public List<YamlMapReader>? MapList(string key, string what, string itemExample)
        {
            var node = Node(key);
            if (node == null) return null;
            if (!(node is YamlSequenceNode seq))
            {
                Invalid(node, $"'{key}' must be a list of {what}");
                return null;
            }
            var result = new List<YamlMapReader>();
            for (int i = 0; i < seq.Children.Count; i++)
            {
                if (seq.Children[i] is YamlMappingNode m) result.Add(new YamlMapReader(m, _path, $"{key}[{i}]", isRoot: false, _dialect, _diagnostics));
                else Invalid(seq.Children[i], $"{key}[{i}] must be {_dialect.ObjectNoun} such as {itemExample}");
            }
            return result;
        }

        /// <summary>Reports every key of this mapping that no getter asked for, with the closest known key as a hint.</summary>
        public void ReportUnknownKeys()
        {
            foreach (var entry in _node.Children)
            {
                var key = (entry.Key as YamlScalarNode)?.Value ?? "";
                if (_known.Contains(key)) continue;
                var hint = Closest(key, _known);
                _diagnostics.Add(Diag(_dialect.UnknownKeyId, SpanOf(entry.Key),
                    $"unknown key '{key}' in {_context}; " + (hint != null ? $"did you mean '{hint}'? " : "") + $"expected one of: {string.Join(", ", _known)}"));
            }
        }

        public void Invalid(YamlNode node, string message) => Invalid(SpanOf(node), message);

        public void Invalid(SourceSpan span, string message) => _diagnostics.Add(Diag(_dialect.InvalidValueId, span, message));

        public void Report(string id, SourceSpan span, string message) => _diagnostics.Add(Diag(id, span, message));

        public SourceSpan SpanOf(string key)
        {
            var entry = Find(key);
            return entry == null ? Span : SpanOf(entry.Value.Value);
        }

        public static SourceSpan SpanOf(YamlNode node) =>
            new SourceSpan((int)node.Start.Line, (int)node.Start.Column, (int)node.End.Line, (int)node.End.Column);

        private long? ParseLong(YamlNode node, string key, long min, long max)
        {
            var plain = node is YamlScalarNode s && s.Style == ScalarStyle.Plain ? s.Value ?? "" : null;
            if (plain != null && long.TryParse(plain, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            {
                if (v >= min && v <= max) return v;
                Invalid(node, v < min ? $"'{key}' in {_context} must be at least {Format(min)}, got {Format(v)}" : $"'{key}' in {_context} must be at most {Format(max)}, got {Format(v)}");
                return null;
            }
            bool tooLong = plain != null && plain.TrimStart('-').Length > 0 && plain.TrimStart('-').All(c => c >= '0' && c <= '9') && plain.LastIndexOf('-') <= 0;
            Invalid(node, !tooLong ? $"'{key}' in {_context} must be an integer{_dialect.IntegerHint}, got {Text(node)}"
                : plain!.StartsWith("-", StringComparison.Ordinal) ? $"'{key}' in {_context} must be at least {Format(min)}, got {plain}"
                : $"'{key}' in {_context} must be at most {Format(max)}, got {plain}");
            return null;
        }

        private void Missing(string key) => _diagnostics.Add(Diag(_dialect.MissingKeyId, Span, $"{_context} needs '{key}'"));

        private SpecDiagnostic Diag(string id, SourceSpan span, string message) => new SpecDiagnostic(id, message, _path, span);

        private KeyValuePair<YamlNode, YamlNode>? Find(string key)
        {
            foreach (var entry in _node.Children)
                if (entry.Key is YamlScalarNode s && s.Value == key) return entry;
            return null;
        }

        private string Text(YamlNode node) => node switch
        {
            YamlScalarNode s when s.Style == ScalarStyle.Plain => "'" + s.Value + "'",
            YamlScalarNode s => "the string \"" + s.Value + "\"",
            YamlSequenceNode _ => "a list",
            _ => _dialect.ObjectNoun,
        };

        private static string Format(long v) => v.ToString(CultureInfo.InvariantCulture);

        /// <summary>JSON's number grammar (no hex, no leading '+', no thousands separators, digits around '.').</summary>
        private static bool IsJsonNumber(string t)
        {
            int i = 0;
            if (i < t.Length && t[i] == '-') i++;
            int digits = Digits(t, ref i);
            if (digits == 0) return false;
            if (i < t.Length && t[i] == '.') { i++; if (Digits(t, ref i) == 0) return false; }
            if (i < t.Length && (t[i] == 'e' || t[i] == 'E'))
            {
                i++;
                if (i < t.Length && (t[i] == '+' || t[i] == '-')) i++;
                if (Digits(t, ref i) == 0) return false;
            }
            return i == t.Length;
        }

        private static int Digits(string t, ref int i)
        {
            int start = i;
            while (i < t.Length && t[i] >= '0' && t[i] <= '9') i++;
            return i - start;
        }

        private static string? Closest(string key, IEnumerable<string> candidates)
        {
            string? best = null;
            int bestDistance = 3;
            foreach (var c in candidates)
            {
                int d = Levenshtein(key, c);
                if (d < bestDistance) { bestDistance = d; best = c; }
            }
            return best;
        }

        private static int Levenshtein(string a, string b)
        {
            var prev = new int[b.Length + 1];
            var cur = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++) prev[j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                cur[0] = i;
                for (int j = 1; j <= b.Length; j++)
                    cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                var t = prev; prev = cur; cur = t;
            }
            return prev[b.Length];
        }
    }
}
