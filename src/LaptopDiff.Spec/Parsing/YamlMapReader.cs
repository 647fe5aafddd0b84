using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using YamlDotNet.RepresentationModel;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Reads one YAML mapping with typed getters. Every problem becomes a positioned diagnostic instead
    /// of an exception, and keys nobody asked for are reported as unknown (a typo must not be ignored).
    /// </summary>
    internal sealed class YamlMapReader
    {
        private readonly YamlMappingNode _node;
        private readonly string _path;
        private readonly string _context;
        private readonly List<SpecDiagnostic> _diagnostics;
        private readonly HashSet<string> _known = new HashSet<string>();

        public YamlMapReader(YamlMappingNode node, string path, string context, List<SpecDiagnostic> diagnostics)
        {
            _node = node;
            _path = path;
            _context = context;
            _diagnostics = diagnostics;
        }

        public SourceSpan Span => SpanOf(_node);

        public bool Has(string key) { _known.Add(key); return Find(key) != null; }

        public YamlNode? Node(string key) { _known.Add(key); return Find(key)?.Value; }

        public string? String(string key, bool required = false)
        {
            var node = Node(key);
            if (node == null) { if (required) Missing(key); return null; }
            if (node is YamlScalarNode s && s.Value != null) return s.Value;
            Invalid(node, $"'{key}' in {_context} must be a plain value");
            return null;
        }

        /// <summary>
        /// No width, count or size in a U-Net comes near this; larger values (a typo, a fuzzed file) would
        /// overflow parameter arithmetic or make the layout expansion run out of memory.
        /// </summary>
        public const int MaxValue = 1 << 20;

        public int? Int(string key, bool required = false, int min = int.MinValue, int max = MaxValue)
        {
            var node = Node(key);
            if (node == null) { if (required) Missing(key); return null; }
            return ParseInt(node, key, min, max);
        }

        public double? Double(string key)
        {
            var node = Node(key);
            if (node == null) return null;
            if (node is YamlScalarNode s && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                && !double.IsNaN(v) && !double.IsInfinity(v))
                return v;
            Invalid(node, $"'{key}' in {_context} must be a number, got '{Text(node)}'");
            return null;
        }

        public bool? Bool(string key)
        {
            var node = Node(key);
            if (node == null) return null;
            if (node is YamlScalarNode s)
            {
                switch ((s.Value ?? "").ToLowerInvariant())
                {
                    case "true": return true;
                    case "false": return false;
                }
            }
            Invalid(node, $"'{key}' in {_context} must be true or false, got '{Text(node)}'");
            return null;
        }

        /// <summary>An int, or a list of ints; a single int is returned as a one-element list.</summary>
        public List<int>? IntOrList(string key, int min, int max = MaxValue)
        {
            var node = Node(key);
            if (node == null) return null;
            if (node is YamlSequenceNode seq)
            {
                var values = new List<int>();
                foreach (var item in seq.Children)
                {
                    var v = ParseInt(item, key, min, max);
                    if (v == null) return null;
                    values.Add(v.Value);
                }
                return values;
            }
            var single = ParseInt(node, key, min, max);
            return single == null ? null : new List<int> { single.Value };
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

        public YamlMapReader? Map(string key)
        {
            var node = Node(key);
            if (node == null) return null;
            if (node is YamlMappingNode m) return new YamlMapReader(m, _path, $"{_context}.{key}", _diagnostics);
            Invalid(node, $"'{key}' in {_context} must be a mapping (key: value pairs)");
            return null;
        }

        public List<YamlMapReader>? MapList(string key)
        {
            var node = Node(key);
            if (node == null) return null;
            if (!(node is YamlSequenceNode seq))
            {
                Invalid(node, $"'{key}' must be a list of stages");
                return null;
            }
            var result = new List<YamlMapReader>();
            for (int i = 0; i < seq.Children.Count; i++)
            {
                if (seq.Children[i] is YamlMappingNode m) result.Add(new YamlMapReader(m, _path, $"{key}[{i}]", _diagnostics));
                else Invalid(seq.Children[i], $"{key}[{i}] must be a mapping such as {{ type: cross_attn, channels: 320, layers: 2 }}");
            }
            return result;
        }

        /// <summary>Reports every key of this mapping that no getter asked for.</summary>
        public void ReportUnknownKeys()
        {
            foreach (var entry in _node.Children)
            {
                var key = (entry.Key as YamlScalarNode)?.Value ?? "";
                if (_known.Contains(key)) continue;
                var expected = string.Join(", ", _known.OrderBy(k => k, StringComparer.Ordinal));
                var hint = Closest(key, _known);
                _diagnostics.Add(Diag(SpecDiagnosticIds.UnknownKey, SpanOf(entry.Key),
                    $"unknown key '{key}' in {_context}" + (hint != null ? $"; did you mean '{hint}'?" : "") + $" Expected one of: {expected}"));
            }
        }

        public void Invalid(YamlNode node, string message) =>
            _diagnostics.Add(Diag(SpecDiagnosticIds.InvalidValue, SpanOf(node), message));

        public void Report(string id, SourceSpan span, string message) => _diagnostics.Add(Diag(id, span, message));

        public SourceSpan SpanOf(string key)
        {
            var entry = Find(key);
            return entry == null ? Span : SpanOf(entry.Value.Value);
        }

        public static SourceSpan SpanOf(YamlNode node) =>
            new SourceSpan((int)node.Start.Line, (int)node.Start.Column, (int)node.End.Line, (int)node.End.Column);

        private int? ParseInt(YamlNode node, string key, int min, int max)
        {
            if (node is YamlScalarNode s && int.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            {
                if (v >= min && v <= max) return v;
                Invalid(node, v < min ? $"'{key}' in {_context} must be at least {min}, got {v}" : $"'{key}' in {_context} must be at most {max}, got {v}");
                return null;
            }
            Invalid(node, $"'{key}' in {_context} must be an integer, got '{Text(node)}'");
            return null;
        }

        private void Missing(string key) =>
            _diagnostics.Add(Diag(SpecDiagnosticIds.MissingKey, Span, $"{_context} needs '{key}'"));

        private SpecDiagnostic Diag(string id, SourceSpan span, string message) =>
            new SpecDiagnostic(id, message, _path, span);

        private KeyValuePair<YamlNode, YamlNode>? Find(string key)
        {
            foreach (var entry in _node.Children)
                if (entry.Key is YamlScalarNode s && s.Value == key) return entry;
            return null;
        }

        private static string Text(YamlNode node) => node is YamlScalarNode s ? s.Value ?? "" : node.NodeType.ToString().ToLowerInvariant();

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
