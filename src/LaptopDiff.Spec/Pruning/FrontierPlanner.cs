using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// One pruned spec to plan: the ratio (and how it was written, for messages), the class name asked for (null: the
    /// default <c>&lt;BaseName&gt;Pruned&lt;percent&gt;</c>), where the overlay will live (its diagnostics name it) and
    /// what its <c>base:</c> says.
    /// </summary>
    public sealed record FrontierPoint(double Ratio, string RatioText, string? Name, string Path, string BaseReference);

    /// <summary>A planned pruned spec: the exact knapsack's solution, the overlay's text and the layout it resolves to on its base.</summary>
    public sealed record PlannedSpec(FrontierPoint Point, PruneSolution Solution, string Yaml, UNetLayout Layout);

    /// <summary>
    /// What planning one point gave: the spec, or the diagnostics that say why not. Their ids say which part failed:
    /// <see cref="SpecDiagnosticIds.InfeasibleRatio"/> the ratio, <see cref="SpecDiagnosticIds.InvalidName"/> the name,
    /// <see cref="SpecDiagnosticIds.DuplicateName"/> a class name another point already took, others the overlay.
    /// </summary>
    public sealed record PlannedPoint(FrontierPoint Point, PlannedSpec? Spec, EquatableArray<SpecDiagnostic> Diagnostics);

    /// <summary>The frontier: one outcome per point, in order, or (when the criterion does not fit the base at all) none and why.</summary>
    public sealed record FrontierPlan(EquatableArray<PlannedPoint> Points, EquatableArray<SpecDiagnostic> Diagnostics)
    {
        public IEnumerable<PlannedSpec> Specs => Points.Where(p => p.Spec != null).Select(p => p.Spec!);

        /// <summary>Every diagnostic, the plan's then each point's.</summary>
        public IEnumerable<SpecDiagnostic> AllDiagnostics => Diagnostics.Concat(Points.SelectMany(p => p.Diagnostics));
    }

    /// <summary>
    /// Ratios to pruned specs, the same for <c>laptop-diff prune</c> and for <c>&lt;LaptopDiffPrune&gt;</c> build items:
    /// the criterion checked against the full model once (LD0015), then for each point the exact knapsack (LD0016 when
    /// out of reach), the overlay written by <see cref="PrunedSpecBuilder"/> (LD0012 for a bad name) and resolved on the
    /// base exactly as a <c>base:</c> + <c>removed:</c> file is, and one class name per point (LD0013). Pure and
    /// without I/O, so the generator runs it at compile time; a point that fails leaves the others planned.
    /// </summary>
    public sealed class FrontierPlanner
    {
        private readonly UNetLayout _baseLayout;
        private readonly SpecParseResult _baseSpec;
        private readonly CriterionFile _criterion;
        private readonly string _criterionHash;
        private readonly string _date;
        private readonly Dictionary<string, string> _classes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        private FrontierPlanner(UNetLayout baseLayout, SpecParseResult baseSpec, CriterionFile criterion, string criterionHash, string date)
        {
            _baseLayout = baseLayout;
            _baseSpec = baseSpec;
            _criterion = criterion;
            _criterionHash = criterionHash;
            _date = date;
        }

        /// <summary>A planner for the points of one frontier, or null and why the criterion does not fit the base at all.</summary>
        /// <param name="baseLayout">The full model's layout, from <paramref name="baseSpec"/>.</param>
        /// <param name="baseSpec">The parsed base spec file: what every overlay's <c>base:</c> resolves to.</param>
        /// <param name="criterionHash">Hash of the criterion file's text (<see cref="SpecHash.OfText"/>), recorded in provenance.</param>
        /// <param name="date">The provenance date.</param>
        public static (FrontierPlanner? Planner, EquatableArray<SpecDiagnostic> Diagnostics) Create(UNetLayout baseLayout, SpecParseResult baseSpec,
            CriterionFile criterion, string criterionHash, string date)
        {
            var mismatch = criterion.CheckAgainst(baseLayout);
            return mismatch.Count > 0 ? (null, mismatch) : (new FrontierPlanner(baseLayout, baseSpec, criterion, criterionHash, date), mismatch);
        }

        /// <summary>Every point, in order (see <see cref="Create"/> and <see cref="Plan(FrontierPoint, CancellationToken)"/>).</summary>
        public static FrontierPlan Plan(UNetLayout baseLayout, SpecParseResult baseSpec, CriterionFile criterion, string criterionHash,
            IEnumerable<FrontierPoint> points, string date, CancellationToken ct = default)
        {
            var (planner, diagnostics) = Create(baseLayout, baseSpec, criterion, criterionHash, date);
            if (planner == null) return new FrontierPlan(EquatableArray<PlannedPoint>.Empty, diagnostics);
            return new FrontierPlan(points.Select(p => planner.Plan(p, ct)).ToEquatableArray(), EquatableArray<SpecDiagnostic>.Empty);
        }

        /// <summary>One point: its spec, or its diagnostics. A class name taken by an earlier point of this planner is LD0013.</summary>
        public PlannedPoint Plan(FrontierPoint point, CancellationToken ct = default)
        {
            ct.ThrowIfCancellationRequested();
            PlannedPoint Fail(IEnumerable<SpecDiagnostic> diagnostics) => new PlannedPoint(point, null, diagnostics.ToEquatableArray());
            SpecDiagnostic At(string id, string message) => new SpecDiagnostic(id, message, _criterion.Path, default);

            var (solution, solveDiagnostics) = KnapsackSolver.TrySolve(_baseLayout, _criterion, point.Ratio);
            if (solution == null) return Fail(solveDiagnostics);
            if (point.Name != null && !SpecParser.IsIdentifier(point.Name))
                return Fail(new[] { At(SpecDiagnosticIds.InvalidName, $"name '{point.Name}' must be a C# identifier (letters, digits, '_'; not starting with a digit); it names the generated class") });

            var yaml = PrunedSpecBuilder.Build(_baseLayout, point.BaseReference, solution, _criterionHash, point.Ratio, _date, point.Name, _criterion.Criterion);
            var resolved = SpecResolver.Resolve(SpecParser.Parse(point.Path, yaml, ct), _ => _baseSpec);
            if (resolved.Spec == null || resolved.Diagnostics.Count > 0) return Fail(resolved.Diagnostics);
            var (layout, layoutDiagnostics) = LayoutBuilder.Build(resolved.Spec, point.Path);
            if (layout == null) return Fail(layoutDiagnostics);

            if (_classes.TryGetValue(layout.Spec.Name, out var other))
                return Fail(new[] { At(SpecDiagnosticIds.DuplicateName, $"ratios {other} and {point.RatioText} both name class '{layout.Spec.Name}' (names use the truncated percent)") });
            _classes.Add(layout.Spec.Name, point.RatioText);
            return new PlannedPoint(point, new PlannedSpec(point, solution, yaml, layout), EquatableArray<SpecDiagnostic>.Empty);
        }
    }
}
