using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Reads a criterion file (<see cref="CriterionFile"/>). JSON is YAML flow syntax, so the reader of specs
    /// (<see cref="YamlMapReader"/>, in its JSON dialect) reads it too, with positions. Pure: no file access, so the
    /// source generator can call it. Every problem is a positioned <see cref="SpecDiagnosticIds.InvalidCriterion"/>
    /// diagnostic, never an exception; whether the file fits a spec is <see cref="CriterionFile.CheckAgainst"/>'s job.
    /// </summary>
    public static class CriterionReader
    {
        /// <summary>The file, or null when it has any diagnostic (the file is then unusable).</summary>
        public static (CriterionFile? File, EquatableArray<SpecDiagnostic> Diagnostics) Parse(string path, string? text, CancellationToken cancellationToken = default)
        {
            var diagnostics = new List<SpecDiagnostic>();
            var root = YamlDocument.Load(path, text, YamlDialect.Criterion, diagnostics);
            if (root == null) return (null, diagnostics.ToEquatableArray());
            cancellationToken.ThrowIfCancellationRequested();
            var file = ReadFile(root, path);
            return (diagnostics.Count == 0 ? file : null, diagnostics.ToEquatableArray());
        }

        private static CriterionFile ReadFile(YamlMapReader root, string path)
        {
            var format = root.String("format", required: true);
            if (format != null && format != CriterionFile.CurrentFormat)
                root.Invalid(root.SpanOf("format"), format.StartsWith("laptopdiff.criterion/", StringComparison.Ordinal)
                    ? $"criterion format '{format}' is not supported by this version, which reads '{CriterionFile.CurrentFormat}'"
                    : $"'format' must be '{CriterionFile.CurrentFormat}', got '{format}'; is this a criterion file?");

            var criterion = root.String("criterion", required: true);
            if (criterion != null && !IsCriterionName(criterion))
                root.Invalid(root.SpanOf("criterion"), $"'criterion' must be a name of lowercase letters, digits and '_' such as output_loss, got '{criterion}'");

            var specRef = new CriterionSpecRef();
            if (root.Map("spec", required: true) is YamlMapReader spec)
            {
                var hash = spec.String("hash", required: true);
                if (hash != null && !SpecHash.IsWellFormed(hash))
                    spec.Invalid(spec.SpanOf("hash"), $"'hash' in spec must be '{SpecHash.Prefix}' followed by 64 lowercase hex digits, got '{hash}'");
                specRef = new CriterionSpecRef
                {
                    Name = spec.String("name", required: true) ?? "",
                    Hash = hash ?? "",
                    Source = spec.SpanOf("hash"),
                };
                spec.ReportUnknownKeys();
            }

            CriterionCalibration? calibration = null;
            if (root.Map("calibration") is YamlMapReader cal)
            {
                calibration = new CriterionCalibration
                {
                    Path = cal.String("path"),
                    Hash = cal.String("hash"),
                    Samples = cal.Int("samples", min: 1, max: int.MaxValue),
                    Seed = cal.Long("seed"),
                    Timesteps = cal.LongList("timesteps", min: 0, max: int.MaxValue, example: "[999, 749, 499]").Select(t => (int)t).ToEquatableArray(),
                };
                cal.ReportUnknownKeys();
            }

            var created = root.String("created");
            var units = new List<CriterionUnit>();
            var entries = root.MapList("units", "{ \"id\", \"params\", \"loss\" } objects",
                "{ \"id\": \"down_blocks.0.resnets.0\", \"params\": 2255040, \"loss\": 0.0123 }");
            if (entries == null && !root.Has("units")) root.Invalid(root.Span, "the criterion file needs 'units': one entry per prunable unit");
            foreach (var entry in entries ?? new List<YamlMapReader>())
                if (ReadUnit(entry) is CriterionUnit unit) units.Add(unit);
            var unitsSource = root.SpanOf("units");
            root.ReportUnknownKeys();

            return new CriterionFile
            {
                Path = path,
                Criterion = criterion ?? "",
                Spec = specRef,
                Calibration = calibration,
                Created = created,
                Units = units.ToEquatableArray(),
                UnitsSource = unitsSource,
            };
        }

        private static CriterionUnit? ReadUnit(YamlMapReader m)
        {
            int before = m.ProblemCount;
            var id = m.String("id", required: true);
            var parameters = m.Long("params", required: true, min: 0);
            var loss = m.Number("loss", required: true);
            var stderr = m.Number("stderr");
            var samples = m.Int("samples", min: 1, max: int.MaxValue);
            m.ReportUnknownKeys();
            if (m.ProblemCount > before || id == null || parameters == null || loss == null) return null;
            return new CriterionUnit
            {
                Id = id,
                Params = parameters.Value,
                Loss = loss.Value,
                StdErr = stderr,
                Samples = samples,
                Source = m.Span,
            };
        }

        private static bool IsCriterionName(string s) =>
            s.Length > 0 && char.IsLower(s[0]) && s.All(c => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
}
