using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>What the knapsack's ratio is a fraction of.</summary>
    public enum BudgetKind
    {
        /// <summary>The U-Net's parameters (the paper's budget): exact from the layout, no costs file needed.</summary>
        Params,
        /// <summary>FLOPs of one step (<see cref="UNetFlops"/>) at the costs file's batch and resolution.</summary>
        Flops,
        /// <summary>Measured latency of one step on the profiled machine (its units plus the fixed rest), in whole nanoseconds.</summary>
        Latency,
    }

    /// <summary>
    /// The cost the knapsack budgets: each prunable unit's cost and the whole step's, as integers, so the solver stays exact
    /// (DESIGN "Costs, devices, exports"). Parameters and FLOPs are integers already; latencies are rounded to whole
    /// nanoseconds (<see cref="LatencyResolutionMs"/>), and the solution is exact at that resolution. A ratio R then asks
    /// for removed cost >= ceil(R x total) of this kind.
    /// </summary>
    public sealed record PruneBudget
    {
        /// <summary>The latency resolution: 1 ns. Far below any run-to-run spread, far above double rounding of a step's milliseconds.</summary>
        public const double LatencyResolutionMs = 1e-6;

        private PruneBudget(BudgetKind kind, IReadOnlyDictionary<string, long> unitCosts, long total, CostsFile? costs)
        {
            Kind = kind;
            UnitCosts = unitCosts;
            Total = total;
            Costs = costs;
        }

        public BudgetKind Kind { get; }
        /// <summary>Cost of each prunable unit, by id, in <see cref="Unit"/>s.</summary>
        public IReadOnlyDictionary<string, long> UnitCosts { get; }
        /// <summary>The whole step's cost, what a ratio is a fraction of.</summary>
        public long Total { get; }
        /// <summary>The costs file a FLOP or latency budget comes from.</summary>
        public CostsFile? Costs { get; }

        /// <summary>The names a budget is given by (<c>params</c>, <c>flops</c>, <c>latency</c>).</summary>
        public static IReadOnlyList<string> Names { get; } = new[] { "params", "flops", "latency" };

        public static string NameOf(BudgetKind kind) => Names[(int)kind];

        /// <summary>The kind a name gives, or null.</summary>
        public static BudgetKind? Parse(string? name)
        {
            int i = Names.ToList().IndexOf((name ?? "").Trim().ToLowerInvariant());
            return i < 0 ? (BudgetKind?)null : (BudgetKind)i;
        }

        /// <summary>The paper's budget: each unit's exact parameters out of the full model's.</summary>
        public static PruneBudget Params(UNetLayout layout) =>
            new PruneBudget(BudgetKind.Params, layout.PrunableUnits.ToDictionary(u => u.Id, u => u.ParamCount, StringComparer.Ordinal), layout.BaseParamCount, null);

        /// <summary>
        /// The budget of <paramref name="kind"/> for <paramref name="layout"/> (the full model) at <paramref name="shape"/>, or null and
        /// why: a FLOP or latency budget without a costs file, or a costs file that does not fit (<see cref="CostsFile.CheckAgainst"/>).
        /// A params budget takes no file, but checks one that is given. <paramref name="path"/> is where a missing file is reported.
        /// </summary>
        public static (PruneBudget? Budget, EquatableArray<SpecDiagnostic> Diagnostics) Create(BudgetKind kind, UNetLayout layout, CostsFile? costs,
            CostShape shape, string path)
        {
            if (costs == null && kind != BudgetKind.Params)
                return (null, new[]
                {
                    new SpecDiagnostic(SpecDiagnosticIds.CostsMismatch,
                        $"a {NameOf(kind)} budget needs a costs file (laptop-diff profile) measured on {layout.Spec.Name} at {shape.Batch}x{shape.Height}x{shape.Width}", path, default),
                }.ToEquatableArray());
            var mismatch = costs?.CheckAgainst(layout, shape) ?? EquatableArray<SpecDiagnostic>.Empty;
            if (mismatch.Count > 0) return (null, mismatch);
            switch (kind)
            {
                case BudgetKind.Params:
                    return (Params(layout), mismatch);
                case BudgetKind.Flops:
                    return (new PruneBudget(kind, costs!.Units.ToDictionary(u => u.Id, u => u.Flops, StringComparer.Ordinal), costs.Step.Flops, costs), mismatch);
                default:
                    var unitNs = costs!.Units.ToDictionary(u => u.Id, u => Nanoseconds(u.LatencyMs), StringComparer.Ordinal);
                    return (new PruneBudget(kind, unitNs, LatencyTotal(costs, unitNs.Values.Sum()), costs), mismatch);
            }
        }

        /// <summary>
        /// What a latency ratio is a fraction of: the step as its parts measured it, the units' medians plus the fixed rest,
        /// timed in the same runs (<see cref="StepCost.FixedLatencyMs"/>); the step's own median when the file has no fixed rest.
        /// On a quiet machine the two agree (the profile's residual); under load the whole step's median also holds the
        /// preemptions that each part's median leaves out, so a share of the parts is the share of time a removal saves.
        /// </summary>
        private static long LatencyTotal(CostsFile costs, long unitNs) =>
            costs.Step.FixedLatencyMs is double fixedMs ? unitNs + Nanoseconds(fixedMs) : Nanoseconds(costs.Step.LatencyMs);

        /// <summary>A latency in milliseconds as whole nanoseconds (rounded to nearest).</summary>
        public static long Nanoseconds(double ms) => (long)Math.Round(ms / LatencyResolutionMs, MidpointRounding.AwayFromZero);

        /// <summary>How names and default file names call a model pruned on this budget: <c>Pruned</c>, <c>Flops</c> or <c>Latency</c>.</summary>
        public static string NamePart(BudgetKind kind) => kind == BudgetKind.Params ? "Pruned" : kind == BudgetKind.Flops ? "Flops" : "Latency";

        /// <summary>What a total of this budget is: <c>parameters</c>, <c>FLOPs</c>, <c>ms of step latency</c>.</summary>
        public string Noun => Kind == BudgetKind.Params ? "parameters" : Kind == BudgetKind.Flops ? "FLOPs" : "ms of step latency";

        /// <summary>An amount of this budget, as messages and headers print it (latency in ms).</summary>
        public string Format(long cost) => Kind == BudgetKind.Latency
            ? (cost * LatencyResolutionMs).ToString("0.######", CultureInfo.InvariantCulture)
            : cost.ToString("N0", CultureInfo.InvariantCulture);
    }
}
