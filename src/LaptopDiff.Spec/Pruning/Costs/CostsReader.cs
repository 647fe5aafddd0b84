using System;
using System.Collections.Generic;
using System.Threading;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Reads a costs file (<see cref="CostsFile"/>) with the reader of specs and criteria, in its JSON dialect, with positions.
    /// Pure: no file access, so the source generator can call it. Every problem is a positioned
    /// <see cref="SpecDiagnosticIds.InvalidCosts"/> diagnostic; whether the file fits a spec is <see cref="CostsFile.CheckAgainst"/>'s job.
    /// </summary>
    public static class CostsReader
    {
        /// <summary>The file, or null when it has any diagnostic.</summary>
        public static (CostsFile? File, EquatableArray<SpecDiagnostic> Diagnostics) Parse(string path, string? text, CancellationToken cancellationToken = default)
        {
            var diagnostics = new List<SpecDiagnostic>();
            var root = YamlDocument.Load(path, text, YamlDialect.Costs, diagnostics);
            if (root == null) return (null, diagnostics.ToEquatableArray());
            cancellationToken.ThrowIfCancellationRequested();
            var file = ReadFile(root, path);
            return (diagnostics.Count == 0 ? file : null, diagnostics.ToEquatableArray());
        }

        private static CostsFile ReadFile(YamlMapReader root, string path)
        {
            var format = root.String("format", required: true);
            if (format != null && format != CostsFile.CurrentFormat)
                root.Invalid(root.SpanOf("format"), format.StartsWith("laptopdiff.costs/", StringComparison.Ordinal)
                    ? $"costs format '{format}' is not supported by this version, which reads '{CostsFile.CurrentFormat}'"
                    : $"'format' must be '{CostsFile.CurrentFormat}', got '{format}'; is this a costs file (from laptop-diff profile)?");

            var specRef = new CriterionSpecRef();
            if (root.Map("spec", required: true) is YamlMapReader spec)
            {
                var hash = spec.String("hash", required: true);
                if (hash != null && !SpecHash.IsWellFormed(hash))
                    spec.Invalid(spec.SpanOf("hash"), $"'hash' in spec must be '{SpecHash.Prefix}' followed by 64 lowercase hex digits, got '{hash}'");
                specRef = new CriterionSpecRef { Name = spec.String("name", required: true) ?? "", Hash = hash ?? "", Source = spec.SpanOf("hash") };
                spec.ReportUnknownKeys();
            }

            var shape = new CostShape(
                root.Int("batch", required: true, min: 1) ?? 1,
                root.Int("height", required: true, min: 1) ?? 1,
                root.Int("width", required: true, min: 1) ?? 1,
                root.Int("tokens", required: true, min: 1) ?? 1);
            var step = new StepCost();
            if (root.Map("step", required: true) is YamlMapReader s)
            {
                step = new StepCost
                {
                    Params = s.Long("params", required: true, min: 0) ?? 0,
                    Flops = s.Long("flops", required: true, min: 0) ?? 0,
                    LatencyMs = s.Number("latency_ms", required: true) ?? 0,
                    LatencyIqrMs = s.Number("latency_iqr_ms"),
                    FixedLatencyMs = s.Number("fixed_latency_ms"),
                };
                s.ReportUnknownKeys();
            }

            var file = new CostsFile
            {
                Path = path,
                Spec = specRef,
                Device = root.String("device", required: true) ?? "",
                Shape = shape,
                ShapeSource = root.SpanOf("batch"),
                Runs = root.Int("runs", min: 1) ?? 0,
                Created = root.String("created"),
                FlopConvention = root.String("flops"),
                Step = step,
            };
            var units = new List<UnitCost>();
            var entries = root.MapList("units", "{ \"id\", \"params\", \"flops\", \"latency_ms\" } objects",
                "{ \"id\": \"down_blocks.0.resnets.0\", \"params\": 2255040, \"flops\": 4718592, \"latency_ms\": 1.25 }");
            if (entries == null && !root.Has("units")) root.Invalid(root.Span, "the costs file needs 'units': one entry per prunable unit");
            foreach (var entry in entries ?? new List<YamlMapReader>())
                if (ReadUnit(entry) is UnitCost unit) units.Add(unit);
            var unitsSource = root.SpanOf("units");
            root.ReportUnknownKeys();
            return file with { Units = units.ToEquatableArray(), UnitsSource = unitsSource };
        }

        private static UnitCost? ReadUnit(YamlMapReader m)
        {
            int before = m.ProblemCount;
            var id = m.String("id", required: true);
            var parameters = m.Long("params", required: true, min: 0);
            var flops = m.Long("flops", required: true, min: 0);
            var latency = m.Number("latency_ms", required: true);
            var iqr = m.Number("latency_iqr_ms");
            m.ReportUnknownKeys();
            if (m.ProblemCount > before || id == null || parameters == null || flops == null || latency == null) return null;
            return new UnitCost { Id = id, Params = parameters.Value, Flops = flops.Value, LatencyMs = latency.Value, LatencyIqrMs = iqr, Source = m.Span };
        }
    }
}
