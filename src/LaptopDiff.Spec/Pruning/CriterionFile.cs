using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// What the ablation sweep measured: for every prunable unit of one spec, the output loss of removing
    /// that unit alone (s_i = L(e_i)) and its exact parameter count. The knapsack turns it into pruned
    /// specs at any ratio without touching weights (DESIGN "criteria are data"). Stored as JSON:
    /// <code>
    /// { "format": "laptopdiff.criterion/1", "criterion": "output_loss",
    ///   "spec": { "name": "Sd15UNet", "hash": "sha256:..." },
    ///   "calibration": { "path": "...", "hash": "sha256:...", "samples": 64, "seed": 0, "timesteps": [999, 499] },
    ///   "created": "2026-11-25T10:00:00Z",
    ///   "units": [ { "id": "down_blocks.0.resnets.0", "params": 2255040, "loss": 0.0123, "stderr": 0.0004, "samples": 64 } ] }
    /// </code>
    /// Read with <see cref="CriterionReader"/>, written with <see cref="CriterionWriter"/>. Source spans are
    /// part of equality (as in <see cref="StageSpec"/>), so a moved entry re-reports its diagnostics.
    /// </summary>
    public sealed record CriterionFile
    {
        /// <summary>The only <c>format</c> this version reads and writes.</summary>
        public const string CurrentFormat = "laptopdiff.criterion/1";

        /// <summary>The output-loss criterion of the method (DESIGN "The method" 2).</summary>
        public const string OutputLoss = "output_loss";

        /// <summary>Where the file was read from ("" when built in memory); diagnostics name it.</summary>
        public string Path { get; init; } = "";
        /// <summary>What s_i measures: <c>output_loss</c>, <c>magnitude</c>, <c>feature_loss</c>, ...</summary>
        public string Criterion { get; init; } = OutputLoss;
        /// <summary>The spec the sweep ran on, by name and structural hash (<see cref="SpecHash"/>).</summary>
        public CriterionSpecRef Spec { get; init; } = new CriterionSpecRef();
        public CriterionCalibration? Calibration { get; init; }
        /// <summary>When the sweep ran (free text, ISO 8601 by convention), or null.</summary>
        public string? Created { get; init; }
        /// <summary>One entry per prunable unit, in the order the file lists them.</summary>
        public EquatableArray<CriterionUnit> Units { get; init; } = EquatableArray<CriterionUnit>.Empty;
        /// <summary>Position of the <c>units</c> list, where missing units are reported.</summary>
        public SourceSpan UnitsSource { get; init; }

        /// <summary>
        /// Problems that make this file unusable for <paramref name="layout"/> (the full model's layout):
        /// a different structure (hash), entries that are not prunable units of it, parameter counts that
        /// differ from the exact ones, prunable units without an entry (<see cref="SpecDiagnosticIds.CriterionMismatch"/>),
        /// units listed twice, and losses or errors that are NaN, infinite or negative
        /// (<see cref="SpecDiagnosticIds.InvalidCriterion"/>; a NaN is never read as zero). Empty when the knapsack may use it.
        /// </summary>
        public EquatableArray<SpecDiagnostic> CheckAgainst(UNetLayout layout)
        {
            var diagnostics = new List<SpecDiagnostic>();
            void Report(string id, SourceSpan span, string message) =>
                diagnostics.Add(new SpecDiagnostic(id, message, Path, span));

            var expected = SpecHash.Compute(layout.Spec);
            if (!string.Equals(Spec.Hash, expected, StringComparison.Ordinal))
                Report(SpecDiagnosticIds.CriterionMismatch, Spec.Source,
                    $"the criterion was measured on spec '{Spec.Name}' with structure hash {Spec.Hash}, but {layout.Spec.Name} hashes to {expected}: " +
                    "its structure (stages, channels, granularity or pinned units) differs; rerun the sweep for this spec");

            var byId = layout.Components.ToDictionary(c => c.Id, StringComparer.Ordinal);
            var seen = new Dictionary<string, CriterionUnit>(StringComparer.Ordinal);
            foreach (var u in Units)
            {
                if (seen.TryGetValue(u.Id, out var first))
                {
                    Report(SpecDiagnosticIds.InvalidCriterion, u.Source,
                        $"unit '{u.Id}' is listed twice" + (first.Source.IsKnown ? $" (first at line {first.Source.Line})" : "") + "; each unit needs exactly one loss");
                    continue;
                }
                seen.Add(u.Id, u);
                if (!byId.TryGetValue(u.Id, out var c) || !c.IsUnit)
                    Report(SpecDiagnosticIds.CriterionMismatch, u.Source,
                        $"'{u.Id}' is not a unit of {layout.Spec.Name}; units are ids such as {string.Join(", ", layout.PrunableUnits.Take(3).Select(x => x.Id))}");
                else if (!c.Prunable)
                    Report(SpecDiagnosticIds.CriterionMismatch, u.Source, $"unit '{u.Id}' is not prunable in {layout.Spec.Name} ({c.Reason}); the criterion must list only prunable units");
                else if (u.Params != c.ParamCount)
                    Report(SpecDiagnosticIds.CriterionMismatch, u.Source,
                        $"unit '{u.Id}' has params {u.Params.ToString(CultureInfo.InvariantCulture)} in the criterion file, but exactly {c.ParamCount.ToString(CultureInfo.InvariantCulture)} in {layout.Spec.Name}");

                if (double.IsNaN(u.Loss) || double.IsInfinity(u.Loss) || u.Loss < 0)
                    Report(SpecDiagnosticIds.InvalidCriterion, u.Source,
                        $"unit '{u.Id}' has loss {CriterionWriter.Number(u.Loss)}; a loss must be a finite number >= 0 (rerun the sweep for this unit; an invalid loss is never read as zero)");
                else if (u.Loss > MaxLoss)
                    Report(SpecDiagnosticIds.InvalidCriterion, u.Source,
                        $"unit '{u.Id}' has loss {CriterionWriter.Number(u.Loss)}, above {CriterionWriter.Number(MaxLoss)}; sums of such losses would overflow");
                if (u.StdErr is double e && (double.IsNaN(e) || double.IsInfinity(e) || e < 0))
                    Report(SpecDiagnosticIds.InvalidCriterion, u.Source,
                        $"unit '{u.Id}' has stderr {CriterionWriter.Number(e)}; a standard error must be a finite number >= 0");
            }

            var missing = layout.PrunableUnits.Where(c => !seen.ContainsKey(c.Id)).Select(c => c.Id).ToList();
            if (missing.Count > 0)
                Report(SpecDiagnosticIds.CriterionMismatch, UnitsSource,
                    $"the criterion has no entry for {missing.Count} prunable unit{(missing.Count == 1 ? "" : "s")} of {layout.Spec.Name}: " +
                    string.Join(", ", missing.Take(5)) + (missing.Count > 5 ? $" and {missing.Count - 5} more" : "") +
                    "; every prunable unit needs its loss (rerun or complete the sweep)");
            return diagnostics.ToEquatableArray();
        }

        /// <summary>Largest loss accepted: far above any real loss, small enough that a sum of thousands stays finite.</summary>
        public const double MaxLoss = 1e300;
    }

    /// <summary>The spec a criterion was measured on.</summary>
    public sealed record CriterionSpecRef
    {
        public string Name { get; init; } = "";
        /// <summary><c>sha256:</c> + 64 lowercase hex digits, as <see cref="SpecHash.Compute"/> gives.</summary>
        public string Hash { get; init; } = "";
        /// <summary>Position of the hash value, where a mismatch is reported.</summary>
        public SourceSpan Source { get; init; }
    }

    /// <summary>The calibration data the sweep averaged over (informational; the knapsack does not use it).</summary>
    public sealed record CriterionCalibration
    {
        public string? Path { get; init; }
        public string? Hash { get; init; }
        /// <summary>Calibration samples (latent, prompt) averaged over.</summary>
        public int? Samples { get; init; }
        public long? Seed { get; init; }
        /// <summary>The diffusion timesteps the losses were measured at; empty when not recorded.</summary>
        public EquatableArray<int> Timesteps { get; init; } = EquatableArray<int>.Empty;
    }

    /// <summary>One unit's measurement: s_i, its standard error over the calibration samples, and p_i.</summary>
    public sealed record CriterionUnit
    {
        /// <summary>The unit id (diffusers key prefix), e.g. <c>down_blocks.1.resnets.1</c>.</summary>
        public string Id { get; init; } = "";
        /// <summary>Exact parameters of the unit; must equal the layout's count.</summary>
        public long Params { get; init; }
        /// <summary>Output loss of removing this unit alone (or the criterion's score); lower is safer to remove.</summary>
        public double Loss { get; init; }
        public double? StdErr { get; init; }
        public int? Samples { get; init; }
        /// <summary>Position of the entry in the file.</summary>
        public SourceSpan Source { get; init; }
    }
}
