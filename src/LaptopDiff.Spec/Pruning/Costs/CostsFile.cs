using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// What one U-Net step costs on one machine at one input shape, per prunable unit and in total: parameters, FLOPs
    /// (<see cref="UNetFlops"/>) and measured latency (median of the profile's runs, with the interquartile range as its
    /// spread). Written by <c>laptop-diff profile</c>; the knapsack reads it for a FLOP or latency budget. Kept apart from
    /// the criterion (DESIGN "Costs, devices, exports"): the loss of a unit does not depend on the machine, its cost does.
    /// <code>
    /// { "format": "laptopdiff.costs/1",
    ///   "spec": { "name": "Sd15UNet", "hash": "sha256:..." },
    ///   "device": "cpu: AMD EPYC 9B14, 2 threads", "batch": 2, "height": 64, "width": 64, "tokens": 77, "runs": 10,
    ///   "created": "2026-12-06T10:00:00Z", "flops": "2 x multiply-adds of ...",
    ///   "step": { "params": 859520964, "flops": 1612345678, "latency_ms": 812.5, "latency_iqr_ms": 9.1, "fixed_latency_ms": 60.2 },
    ///   "units": [ { "id": "down_blocks.0.resnets.0", "params": 2255040, "flops": 123, "latency_ms": 31.2, "latency_iqr_ms": 0.8 } ] }
    /// </code>
    /// <c>fixed_latency_ms</c> is the non-prunable rest of the step (conv_in, embeddings, resamplers, transformer shells, the
    /// head, non-prunable ResNets): each such step's median over the same runs as the units, summed. Read with <see cref="CostsReader"/>, written with <see cref="CostsWriter"/>.
    /// </summary>
    public sealed record CostsFile
    {
        public const string CurrentFormat = "laptopdiff.costs/1";

        /// <summary>Where the file was read from ("" when built in memory); diagnostics name it.</summary>
        public string Path { get; init; } = "";
        /// <summary>The spec profiled, by name and structural hash.</summary>
        public CriterionSpecRef Spec { get; init; } = new CriterionSpecRef();
        /// <summary>The machine, for people (CPU model or GPU, threads); recorded, not compared.</summary>
        public string Device { get; init; } = "";
        /// <summary>The input shape every cost was measured and counted at.</summary>
        public CostShape Shape { get; init; } = new CostShape(1, 1, 1, 1);
        /// <summary>Position of the batch value, where a shape mismatch is reported.</summary>
        public SourceSpan ShapeSource { get; init; }
        /// <summary>Timed runs per figure.</summary>
        public int Runs { get; init; }
        public string? Created { get; init; }
        /// <summary>The FLOP convention in words (<see cref="UNetFlops.Convention"/>).</summary>
        public string? FlopConvention { get; init; }
        public StepCost Step { get; init; } = new StepCost();
        public EquatableArray<UnitCost> Units { get; init; } = EquatableArray<UnitCost>.Empty;
        public SourceSpan UnitsSource { get; init; }

        /// <summary>
        /// Problems that make this file unusable for <paramref name="layout"/> (the full model's layout) at <paramref name="shape"/>
        /// (<see cref="SpecDiagnosticIds.CostsMismatch"/>): another structure (hash), another batch or resolution, units that are
        /// not its prunable units or are missing, parameter or FLOP counts other than the layout's; and latencies that are not
        /// finite numbers >= 0 (<see cref="SpecDiagnosticIds.InvalidCosts"/>). Empty when the knapsack may use it.
        /// </summary>
        public EquatableArray<SpecDiagnostic> CheckAgainst(UNetLayout layout, CostShape shape)
        {
            var diagnostics = new List<SpecDiagnostic>();
            void Report(string id, SourceSpan span, string message) => diagnostics.Add(new SpecDiagnostic(id, message, Path, span));

            var expected = SpecHash.Compute(layout.Spec);
            if (!string.Equals(Spec.Hash, expected, StringComparison.Ordinal))
            {
                Report(SpecDiagnosticIds.CostsMismatch, Spec.Source,
                    $"the costs were measured on spec '{Spec.Name}' with structure hash {Spec.Hash}, but {layout.Spec.Name} hashes to {expected}; profile this spec");
                return diagnostics.ToEquatableArray();
            }
            if (Shape.Batch != shape.Batch || Shape.Height != shape.Height || Shape.Width != shape.Width)
            {
                Report(SpecDiagnosticIds.CostsMismatch, ShapeSource,
                    $"the costs were measured at batch {Shape.Batch}, {Shape.Height}x{Shape.Width} latents, but the budget is for batch {shape.Batch}, " +
                    $"{shape.Height}x{shape.Width}; profile at that batch and resolution, or prune for the ones profiled");
                return diagnostics.ToEquatableArray();
            }

            var flops = UNetFlops.Count(layout, Shape);
            var byId = layout.Components.ToDictionary(c => c.Id, StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var u in Units)
            {
                if (!seen.Add(u.Id))
                    Report(SpecDiagnosticIds.InvalidCosts, u.Source, $"unit '{u.Id}' is listed twice; each unit needs exactly one cost");
                else if (!byId.TryGetValue(u.Id, out var c) || !c.Prunable)
                    Report(SpecDiagnosticIds.CostsMismatch, u.Source, $"'{u.Id}' is not a prunable unit of {layout.Spec.Name}");
                else if (u.Params != c.ParamCount || u.Flops != flops[u.Id])
                    Report(SpecDiagnosticIds.CostsMismatch, u.Source,
                        $"unit '{u.Id}' has params {N(u.Params)} and flops {N(u.Flops)} in the costs file, but {N(c.ParamCount)} and {N(flops[u.Id])} in {layout.Spec.Name} at {Shape}");
                if (!(u.LatencyMs >= 0) || double.IsInfinity(u.LatencyMs))
                    Report(SpecDiagnosticIds.InvalidCosts, u.Source, $"unit '{u.Id}' has latency_ms {CriterionWriter.Number(u.LatencyMs)}; a latency must be a finite number >= 0");
            }
            if (!(Step.LatencyMs > 0) || double.IsInfinity(Step.LatencyMs))
                Report(SpecDiagnosticIds.InvalidCosts, default, $"the step's latency_ms is {CriterionWriter.Number(Step.LatencyMs)}; it must be a finite number > 0");
            if (Step.FixedLatencyMs is double fixedMs && (!(fixedMs >= 0) || double.IsInfinity(fixedMs)))
                Report(SpecDiagnosticIds.InvalidCosts, default, $"the step's fixed_latency_ms is {CriterionWriter.Number(fixedMs)}; it must be a finite number >= 0");
            var missing = layout.PrunableUnits.Where(c => !seen.Contains(c.Id)).Select(c => c.Id).ToList();
            if (missing.Count > 0)
                Report(SpecDiagnosticIds.CostsMismatch, UnitsSource,
                    $"the costs file has no entry for {missing.Count} prunable unit{(missing.Count == 1 ? "" : "s")} of {layout.Spec.Name}: " +
                    string.Join(", ", missing.Take(5)) + (missing.Count > 5 ? $" and {missing.Count - 5} more" : "") + "; profile this spec");
            return diagnostics.ToEquatableArray();
        }

        private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
    }

    /// <summary>One whole U-Net step: parameters, FLOPs, the median latency of uninstrumented runs and its spread, and the non-prunable rest.</summary>
    public sealed record StepCost
    {
        public long Params { get; init; }
        public long Flops { get; init; }
        public double LatencyMs { get; init; }
        public double? LatencyIqrMs { get; init; }
        /// <summary>The steps that are no prunable unit (conv_in, embeddings, resamplers, shells, head): each one's median over the timed runs, summed.</summary>
        public double? FixedLatencyMs { get; init; }
    }

    /// <summary>One prunable unit's cost: parameters, FLOPs, and its own forward's median latency inside a full step, with the interquartile range.</summary>
    public sealed record UnitCost
    {
        public string Id { get; init; } = "";
        public long Params { get; init; }
        public long Flops { get; init; }
        public double LatencyMs { get; init; }
        public double? LatencyIqrMs { get; init; }
        public SourceSpan Source { get; init; }
    }
}
