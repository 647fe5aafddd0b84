using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Reads a criterion file (<see cref="CriterionFile"/>). JSON is YAML flow syntax, so the YAML
    /// representation model that reads specs reads it too, with positions. Pure: no file access, so the
    /// source generator can call it. Every problem is a positioned <see cref="SpecDiagnosticIds.InvalidCriterion"/>
    /// diagnostic, never an exception; whether the file fits a spec is <see cref="CriterionFile.CheckAgainst"/>'s job.
    /// </summary>
    public static class CriterionReader
    {
        /// <summary>Most nesting accepted; the format needs four levels.</summary>
        private const int MaxDepth = 32;

        /// <summary>The file, or null when it has any diagnostic (the file is then unusable).</summary>
        public static (CriterionFile? File, EquatableArray<SpecDiagnostic> Diagnostics) Parse(string path, string? text, CancellationToken cancellationToken = default)
        {
            var diagnostics = new List<SpecDiagnostic>();
            var reader = new Reader(path, diagnostics);
            if (text == null)
            {
                reader.Report(default, "the criterion file could not be read");
                return (null, diagnostics.ToEquatableArray());
            }

            YamlMappingNode root;
            try
            {
                if (YamlSafety.TooDeep(text, MaxDepth) is SourceSpan deep)
                {
                    reader.Report(deep, $"nested more than {MaxDepth} levels deep; a criterion file needs four");
                    return (null, diagnostics.ToEquatableArray());
                }
                var stream = new YamlStream();
                stream.Load(new StringReader(text));
                if (stream.Documents.Count == 0 || !(stream.Documents[0].RootNode is YamlMappingNode m))
                {
                    reader.Report(new SourceSpan(1, 1, 1, 1), "a criterion file must be a JSON object with 'format', 'criterion', 'spec' and 'units'");
                    return (null, diagnostics.ToEquatableArray());
                }
                root = m;
            }
            catch (YamlException e)
            {
                reader.Report(new SourceSpan((int)e.Start.Line, (int)e.Start.Column, (int)e.End.Line, (int)e.End.Column), "malformed JSON: " + YamlSafety.CleanMessage(e.Message));
                return (null, diagnostics.ToEquatableArray());
            }
            catch (Exception e) when (e is InvalidOperationException || e is ArgumentException)
            {
                // YamlDotNet throws these (not YamlException) for some malformed input
                reader.Report(YamlSafety.LastGoodPosition(text), "malformed JSON after this point: " + e.Message);
                return (null, diagnostics.ToEquatableArray());
            }

            cancellationToken.ThrowIfCancellationRequested();
            var file = reader.ReadFile(new Map(root, "the criterion file"));
            return (diagnostics.Count == 0 ? file : null, diagnostics.ToEquatableArray());
        }

        /// <summary>A mapping being read: which keys were asked for, for the unknown-key report.</summary>
        private sealed class Map
        {
            public readonly YamlMappingNode Node;
            public readonly string Context;
            public readonly List<string> Known = new List<string>();   // in the order asked, for messages

            public Map(YamlMappingNode node, string context) { Node = node; Context = context; }

            /// <summary>The value of <paramref name="key"/>; a JSON <c>null</c> counts as absent.</summary>
            public YamlNode? Get(string key)
            {
                if (!Known.Contains(key)) Known.Add(key);
                foreach (var entry in Node.Children)
                    if (entry.Key is YamlScalarNode k && k.Value == key)
                        return entry.Value is YamlScalarNode s && s.Style == ScalarStyle.Plain && s.Value is "null" or "~" or "" ? null : entry.Value;
                return null;
            }
        }

        private sealed class Reader
        {
            private readonly string _path;
            private readonly List<SpecDiagnostic> _diagnostics;

            public Reader(string path, List<SpecDiagnostic> diagnostics) { _path = path; _diagnostics = diagnostics; }

            public void Report(SourceSpan span, string message) =>
                _diagnostics.Add(new SpecDiagnostic(SpecDiagnosticIds.InvalidCriterion, message, _path, span));

            public CriterionFile ReadFile(Map root)
            {
                var format = String(root, "format", required: true);
                if (format != null && format != CriterionFile.CurrentFormat)
                    Report(SpanOf(root.Get("format")!), format.StartsWith("laptopdiff.criterion/", StringComparison.Ordinal)
                        ? $"criterion format '{format}' is not supported by this version, which reads '{CriterionFile.CurrentFormat}'"
                        : $"'format' must be '{CriterionFile.CurrentFormat}', got '{format}'; is this a criterion file?");

                var criterion = String(root, "criterion", required: true);
                if (criterion != null && !IsCriterionName(criterion))
                    Report(SpanOf(root.Get("criterion")!), $"'criterion' must be a name of lowercase letters, digits and '_' such as output_loss, got '{criterion}'");

                var specRef = new CriterionSpecRef();
                if (MapOf(root, "spec", required: true) is Map spec)
                {
                    var hash = String(spec, "hash", required: true);
                    if (hash != null && !SpecHash.IsWellFormed(hash))
                        Report(SpanOf(spec.Get("hash")!), $"'hash' in spec must be '{SpecHash.Prefix}' followed by 64 lowercase hex digits, got '{hash}'");
                    specRef = new CriterionSpecRef
                    {
                        Name = String(spec, "name", required: true) ?? "",
                        Hash = hash ?? "",
                        Source = spec.Get("hash") is YamlNode h ? SpanOf(h) : SpanOf(spec.Node),
                    };
                    ReportUnknownKeys(spec);
                }

                CriterionCalibration? calibration = null;
                if (MapOf(root, "calibration", required: false) is Map cal)
                {
                    calibration = new CriterionCalibration
                    {
                        Path = String(cal, "path"),
                        Hash = String(cal, "hash"),
                        Samples = (int?)Integer(cal, "samples", min: 1, max: int.MaxValue),
                        Seed = Integer(cal, "seed", min: long.MinValue, max: long.MaxValue),
                        Timesteps = IntegerList(cal, "timesteps", min: 0, max: int.MaxValue).Select(t => (int)t).ToEquatableArray(),
                    };
                    ReportUnknownKeys(cal);
                }

                var created = String(root, "created");
                var units = new List<CriterionUnit>();
                var unitsNode = root.Get("units");
                if (unitsNode == null) Report(SpanOf(root.Node), "the criterion file needs 'units': one entry per prunable unit");
                else if (!(unitsNode is YamlSequenceNode seq)) Report(SpanOf(unitsNode), "'units' must be a list of { \"id\", \"params\", \"loss\" } objects");
                else
                {
                    for (int i = 0; i < seq.Children.Count; i++)
                    {
                        if (!(seq.Children[i] is YamlMappingNode entry))
                        {
                            Report(SpanOf(seq.Children[i]), $"units[{i}] must be an object such as {{ \"id\": \"down_blocks.0.resnets.0\", \"params\": 2255040, \"loss\": 0.0123 }}");
                            continue;
                        }
                        if (ReadUnit(new Map(entry, $"units[{i}]")) is CriterionUnit unit) units.Add(unit);
                    }
                }
                ReportUnknownKeys(root);

                return new CriterionFile
                {
                    Path = _path,
                    Criterion = criterion ?? "",
                    Spec = specRef,
                    Calibration = calibration,
                    Created = created,
                    Units = units.ToEquatableArray(),
                    UnitsSource = unitsNode != null ? SpanOf(unitsNode) : SpanOf(root.Node),
                };
            }

            private CriterionUnit? ReadUnit(Map m)
            {
                int before = _diagnostics.Count;
                var id = String(m, "id", required: true);
                var parameters = Integer(m, "params", min: 0, max: long.MaxValue, required: true);
                var loss = Number(m, "loss", required: true);
                var stderr = Number(m, "stderr");
                var samples = Integer(m, "samples", min: 1, max: int.MaxValue);
                ReportUnknownKeys(m);
                if (_diagnostics.Count > before || id == null || parameters == null || loss == null) return null;
                return new CriterionUnit
                {
                    Id = id,
                    Params = parameters.Value,
                    Loss = loss.Value,
                    StdErr = stderr,
                    Samples = (int?)samples,
                    Source = SpanOf(m.Node),
                };
            }

            private string? String(Map m, string key, bool required = false)
            {
                var node = m.Get(key);
                if (node == null) { if (required) Missing(m, key); return null; }
                if (node is YamlScalarNode s && s.Value != null && s.Value.Length > 0) return s.Value;
                Report(SpanOf(node), $"'{key}' in {m.Context} must be a non-empty string");
                return null;
            }

            private long? Integer(Map m, string key, long min, long max, bool required = false)
            {
                var node = m.Get(key);
                if (node == null) { if (required) Missing(m, key); return null; }
                return IntegerValue(node, key, m.Context, min, max);
            }

            private long? IntegerValue(YamlNode node, string key, string context, long min, long max)
            {
                if (node is YamlScalarNode s && s.Style == ScalarStyle.Plain
                    && long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
                {
                    if (v >= min && v <= max) return v;
                    Report(SpanOf(node), v < min
                        ? $"'{key}' in {context} must be at least {min.ToString(CultureInfo.InvariantCulture)}, got {v.ToString(CultureInfo.InvariantCulture)}"
                        : $"'{key}' in {context} must be at most {max.ToString(CultureInfo.InvariantCulture)}, got {v.ToString(CultureInfo.InvariantCulture)}");
                    return null;
                }
                // digits only, yet not a long: out of range
                bool tooBig = node is YamlScalarNode big && big.Style == ScalarStyle.Plain && IsJsonNumber(big.Value ?? "") && big.Value!.TrimStart('-').All(char.IsDigit);
                Report(SpanOf(node), !tooBig
                    ? $"'{key}' in {context} must be an integer (a JSON number without fraction or exponent), got {Text(node)}"
                    : ((YamlScalarNode)node).Value!.StartsWith("-", StringComparison.Ordinal)
                        ? $"'{key}' in {context} must be at least {min.ToString(CultureInfo.InvariantCulture)}, got {((YamlScalarNode)node).Value}"
                        : $"'{key}' in {context} must be at most {max.ToString(CultureInfo.InvariantCulture)}, got {((YamlScalarNode)node).Value}");
                return null;
            }

            private List<long> IntegerList(Map m, string key, long min, long max)
            {
                var result = new List<long>();
                var node = m.Get(key);
                if (node == null) return result;
                if (!(node is YamlSequenceNode seq))
                {
                    Report(SpanOf(node), $"'{key}' in {m.Context} must be a list of integers such as [999, 749, 499]");
                    return result;
                }
                foreach (var item in seq.Children)
                    if (IntegerValue(item, key, m.Context, min, max) is long v) result.Add(v);
                return result;
            }

            /// <summary>
            /// A number; <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c> (and YAML's <c>.nan</c>, <c>.inf</c>) are read
            /// as such so that the check can name the unit they belong to. A quoted string is not a number.
            /// </summary>
            private double? Number(Map m, string key, bool required = false)
            {
                var node = m.Get(key);
                if (node == null) { if (required) Missing(m, key); return null; }
                if (node is YamlScalarNode s && s.Style == ScalarStyle.Plain && s.Value != null)
                {
                    switch (s.Value)
                    {
                        case "NaN": case ".nan": case ".NaN": case ".NAN": return double.NaN;
                        case "Infinity": case "+Infinity": case ".inf": case "+.inf": case ".Inf": case "+.Inf": case ".INF": case "+.INF": return double.PositiveInfinity;
                        case "-Infinity": case "-.inf": case "-.Inf": case "-.INF": return double.NegativeInfinity;
                    }
                    if (IsJsonNumber(s.Value) && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
                }
                Report(SpanOf(node), $"'{key}' in {m.Context} must be a number, got {Text(node)}");
                return null;
            }

            private Map? MapOf(Map m, string key, bool required)
            {
                var node = m.Get(key);
                if (node == null) { if (required) Missing(m, key); return null; }
                if (node is YamlMappingNode map) return new Map(map, key);
                Report(SpanOf(node), $"'{key}' in {m.Context} must be an object");
                return null;
            }

            private void Missing(Map m, string key) => Report(SpanOf(m.Node), $"{m.Context} needs '{key}'");

            private void ReportUnknownKeys(Map m)
            {
                foreach (var entry in m.Node.Children)
                {
                    var key = (entry.Key as YamlScalarNode)?.Value ?? "";
                    if (!m.Known.Contains(key))
                        Report(SpanOf(entry.Key), $"unknown key '{key}' in {m.Context}; expected one of: {string.Join(", ", m.Known)}");
                }
            }
        }

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

        private static bool IsCriterionName(string s) =>
            s.Length > 0 && char.IsLower(s[0]) && s.All(c => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');

        private static SourceSpan SpanOf(YamlNode node) =>
            new SourceSpan((int)node.Start.Line, (int)node.Start.Column, (int)node.End.Line, (int)node.End.Column);

        private static string Text(YamlNode node) => node switch
        {
            YamlScalarNode s when s.Style == ScalarStyle.Plain => "'" + s.Value + "'",
            YamlScalarNode s => "the string \"" + s.Value + "\"",
            YamlSequenceNode _ => "a list",
            _ => "an object",
        };
    }
}
