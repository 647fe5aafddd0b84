using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Which units to remove: <paramref name="Removed"/> in execution order, their exact parameters, the
    /// achieved ratio (removed / the full U-Net's parameters), the predicted loss (sum of the removed units'
    /// s_i, added in execution order) and the search nodes it took (0 for <see cref="KnapsackSolver.Greedy"/>).
    /// </summary>
    public sealed record PruneSolution(EquatableArray<string> Removed, long RemovedParams, double AchievedRatio, double PredictedLoss, long NodesExplored)
    {
        /// <summary>The ratio asked for.</summary>
        public double Ratio { get; init; }
        /// <summary>Parameters that had to go: ceil(Ratio * the full U-Net's parameters).</summary>
        public long RequiredParams { get; init; }
    }

    /// <summary>
    /// Layer pruning as the method states it (DESIGN "The method" 2): remove the set of prunable units r
    /// minimising sum r_i s_i subject to sum r_i p_i &gt;= R * P, with P the whole U-Net's parameters and p_i each
    /// unit's exact count. Solved exactly by branch and bound over exact integer counts (a DP over parameter
    /// counts of ~1e9 is out of reach); losses are compared as the exact sums of their doubles.
    /// <para>
    /// Ties in the predicted loss go to the lexicographically smallest removal vector r in execution order: at
    /// the first unit where two optimal choices differ, the one that keeps it wins. So later units are removed
    /// before earlier ones of equal worth, and a set never wins over its own subset (a zero-loss unit is not
    /// removed when the ratio is met without it). Deterministic, and the same on every machine.
    /// </para>
    /// Pure and fast (milliseconds for SD-1.5 and SDXL), so the generator runs it at compile time.
    /// </summary>
    public static class KnapsackSolver
    {
        /// <summary>Search nodes after which the solver gives up (it should never come near for a U-Net).</summary>
        public const long DefaultNodeLimit = 50_000_000;

        /// <summary>
        /// ceil(ratio * totalParams), exactly: the ratio is taken as the decimal number it prints as (0.1 is one
        /// tenth, not the double nearest to it), and the product is computed in integers.
        /// </summary>
        public static long RequiredParams(double ratio, long totalParams)
        {
            if (!(ratio <= 1)) throw new ArgumentOutOfRangeException(nameof(ratio), $"the ratio must be a number <= 1, got {ratio.ToString("R", CultureInfo.InvariantCulture)}");
            if (totalParams < 0) throw new ArgumentOutOfRangeException(nameof(totalParams));
            if (ratio <= 0) return 0;
            // below 1e-19, ratio * totalParams < 1 for any long (and decimal would round the ratio to 0)
            if (ratio < 1e-19) return totalParams > 0 ? 1 : 0;
            var d = decimal.Parse(ratio.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
            int[] bits = decimal.GetBits(d);
            int scale = (bits[3] >> 16) & 0xFF;
            var mantissa = new BigInteger((uint)bits[0]) | (new BigInteger((uint)bits[1]) << 32) | (new BigInteger((uint)bits[2]) << 64);
            var numerator = mantissa * totalParams;
            var denominator = BigInteger.Pow(10, scale);
            var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
            if (!remainder.IsZero) quotient += 1;
            return (long)quotient;
        }

        /// <summary>
        /// The ratio check every selection at a ratio uses (the knapsack, the random and magnitude baselines):
        /// <see cref="SpecDiagnosticIds.InfeasibleRatio"/> when <paramref name="ratio"/> is outside [0, 1] or needs more
        /// parameters removed than <paramref name="layout"/>'s prunable units hold (naming the largest achievable ratio),
        /// positioned at <paramref name="path"/> and <paramref name="span"/>; null when it can be met.
        /// </summary>
        public static SpecDiagnostic? CheckRatio(UNetLayout layout, double ratio, string path, SourceSpan span = default)
        {
            long total = layout.BaseParamCount;
            long prunable = layout.PrunableUnits.Sum(u => u.ParamCount);
            string? message = null;
            if (double.IsNaN(ratio) || ratio < 0 || ratio > 1)
                message = $"pruning ratio {Num(ratio)} must be a number between 0 and 1 (the fraction of {layout.Spec.Name}'s parameters to remove)";
            else if (RequiredParams(ratio, total) > prunable)
            {
                double max = Math.Floor((double)prunable / total * 10000) / 10000;
                message = $"pruning ratio {Num(ratio)} needs {N(RequiredParams(ratio, total))} of {layout.Spec.Name}'s {N(total)} parameters removed, " +
                          $"but its {layout.PrunableUnits.Count()} prunable units hold only {N(prunable)}: the maximum achievable ratio is {Num(max)}";
            }
            return message == null ? null : new SpecDiagnostic(SpecDiagnosticIds.InfeasibleRatio, message, path, span);
        }

        /// <summary>ceil(<paramref name="ratio"/> x the full model's parameters), after <see cref="CheckRatio"/>; its diagnostic as a <see cref="SpecException"/>.</summary>
        public static long RequireRatio(UNetLayout layout, double ratio, string path)
        {
            if (CheckRatio(layout, ratio, path) is SpecDiagnostic d) throw new SpecException(new[] { d });
            return RequiredParams(ratio, layout.BaseParamCount);
        }

        /// <summary>The exact optimum at <paramref name="ratio"/>; a <see cref="SpecException"/> carries the diagnostics of <see cref="TrySolve"/>.</summary>
        /// <exception cref="InvalidOperationException">The search exceeded <paramref name="nodeLimit"/> nodes.</exception>
        public static PruneSolution Solve(UNetLayout layout, CriterionFile criterion, double ratio, long nodeLimit = DefaultNodeLimit)
        {
            var (solution, diagnostics) = TrySolve(layout, criterion, ratio, nodeLimit: nodeLimit);
            if (solution == null) throw new SpecException(diagnostics);
            return solution;
        }

        /// <summary>
        /// The exact optimum at <paramref name="ratio"/>, or null with diagnostics: the criterion does not fit the
        /// layout (<see cref="CriterionFile.CheckAgainst"/>), the layout is already pruned, or the ratio is outside
        /// [0, 1] or above what removing every prunable unit reaches (<see cref="SpecDiagnosticIds.InfeasibleRatio"/>,
        /// which names the largest achievable ratio). Ratio diagnostics name <paramref name="ratioPath"/> and
        /// <paramref name="ratioSpan"/> when given (where the ratio was written), else the criterion file.
        /// </summary>
        /// <exception cref="InvalidOperationException">The search exceeded <paramref name="nodeLimit"/> nodes.</exception>
        public static (PruneSolution? Solution, EquatableArray<SpecDiagnostic> Diagnostics) TrySolve(
            UNetLayout layout, CriterionFile criterion, double ratio, string? ratioPath = null, SourceSpan ratioSpan = default, long nodeLimit = DefaultNodeLimit)
        {
            var problem = Problem.Create(layout, criterion, out var diagnostics);
            if (problem == null) return (null, diagnostics);
            var ratioDiagnostic = problem.CheckRatio(ratio, ratioPath ?? criterion.Path, ratioSpan);
            if (ratioDiagnostic != null) return (null, new[] { ratioDiagnostic }.ToEquatableArray());
            return (problem.Solve(ratio, nodeLimit), EquatableArray<SpecDiagnostic>.Empty);
        }

        /// <summary>
        /// One exact solution per ratio, in the order given: the loss/size trade-off (each is on the Pareto
        /// frontier of predicted loss against removed parameters). Throws <see cref="SpecException"/> when the
        /// criterion does not fit or a ratio cannot be reached.
        /// </summary>
        public static IReadOnlyList<PruneSolution> Frontier(UNetLayout layout, CriterionFile criterion, IEnumerable<double> ratios, long nodeLimit = DefaultNodeLimit)
        {
            var problem = Problem.Create(layout, criterion, out var diagnostics) ?? throw new SpecException(diagnostics);
            var result = new List<PruneSolution>();
            foreach (var ratio in ratios)
            {
                problem.RequireRatio(ratio, criterion.Path);
                result.Add(problem.Solve(ratio, nodeLimit));
            }
            return result;
        }

        /// <summary>
        /// The baseline the method improves on: remove units in order of loss per parameter (lowest first,
        /// ties by execution order) until enough parameters are gone. Not optimal; for comparison only.
        /// </summary>
        public static PruneSolution Greedy(UNetLayout layout, CriterionFile criterion, double ratio)
        {
            var problem = Problem.Create(layout, criterion, out var diagnostics) ?? throw new SpecException(diagnostics);
            problem.RequireRatio(ratio, criterion.Path);
            long required = RequiredParams(ratio, problem.TotalParams);
            var removed = GreedyCover(problem.Params, problem.Losses, required)!.Value;
            return problem.Describe(removed, ratio, required, nodes: 0);
        }

        /// <summary>
        /// The exact engine on plain arrays: the indices (ascending) of the items to remove so that their
        /// <paramref name="parameters"/> sum to at least <paramref name="required"/> with the least sum of
        /// <paramref name="losses"/> (exact, ties to the lexicographically smallest removal vector), or null when all items together
        /// hold less than <paramref name="required"/>.
        /// </summary>
        public static (EquatableArray<int>? Removed, long NodesExplored) MinimumCover(
            IReadOnlyList<long> parameters, IReadOnlyList<double> losses, long required, long nodeLimit = DefaultNodeLimit)
        {
            var (removed, nodes) = CoverSearch.Solve(parameters.ToArray(), losses.ToArray(), required, nodeLimit);
            return (removed?.ToEquatableArray(), nodes);
        }

        /// <summary>The greedy baseline on plain arrays (indices ascending), or null when infeasible.</summary>
        public static EquatableArray<int>? GreedyCover(IReadOnlyList<long> parameters, IReadOnlyList<double> losses, long required)
        {
            if (parameters.Count != losses.Count) throw new ArgumentException("one loss per parameter count is needed");
            if (parameters.Sum() < required) return null;
            var order = Enumerable.Range(0, parameters.Count)
                .OrderBy(i => parameters[i] == 0 ? 0 : 1)
                .ThenBy(i => parameters[i] == 0 ? 0 : losses[i] / parameters[i])
                .ThenBy(i => i);
            var removed = new List<int>();
            long sum = 0;
            foreach (var i in order)
            {
                if (sum >= required) break;
                removed.Add(i);
                sum += parameters[i];
            }
            removed.Sort();
            return removed.ToEquatableArray();
        }

        /// <summary>A layout's prunable units with their criterion values, checked once for several ratios.</summary>
        private sealed class Problem
        {
            public readonly UNetLayout Layout;
            public readonly string[] Ids;
            public readonly long[] Params;
            public readonly double[] Losses;
            public readonly long TotalParams;

            private Problem(UNetLayout layout, string[] ids, long[] parameters, double[] losses)
            {
                Layout = layout;
                Ids = ids;
                Params = parameters;
                Losses = losses;
                TotalParams = layout.BaseParamCount;
            }

            public static Problem? Create(UNetLayout layout, CriterionFile criterion, out EquatableArray<SpecDiagnostic> diagnostics)
            {
                diagnostics = criterion.CheckAgainst(layout);
                if (diagnostics.Count == 0 && layout.Removed.Count > 0)
                    diagnostics = new[]
                    {
                        new SpecDiagnostic(SpecDiagnosticIds.CriterionMismatch, $"{layout.Spec.Name} already removes {layout.Removed.Count} units; pruning starts from the full model's layout (its base spec)",
                            criterion.Path, default),
                    }.ToEquatableArray();
                if (diagnostics.Count > 0) return null;
                var loss = criterion.Units.ToDictionary(u => u.Id, u => u.Loss, StringComparer.Ordinal);
                var units = layout.PrunableUnits.ToList();
                return new Problem(layout, units.Select(u => u.Id).ToArray(), units.Select(u => u.ParamCount).ToArray(), units.Select(u => loss[u.Id]).ToArray());
            }

            public SpecDiagnostic? CheckRatio(double ratio, string path, SourceSpan span) => KnapsackSolver.CheckRatio(Layout, ratio, path, span);

            public void RequireRatio(double ratio, string path) => KnapsackSolver.RequireRatio(Layout, ratio, path);

            public PruneSolution Solve(double ratio, long nodeLimit)
            {
                long required = RequiredParams(ratio, TotalParams);
                var (removed, nodes) = CoverSearch.Solve(Params, Losses, required, nodeLimit);
                return Describe(removed!.ToEquatableArray(), ratio, required, nodes);
            }

            public PruneSolution Describe(EquatableArray<int> removed, double ratio, long required, long nodes)
            {
                long removedParams = 0;
                double loss = 0;
                foreach (var i in removed) { removedParams += Params[i]; loss += Losses[i]; }
                return new PruneSolution(removed.Select(i => Ids[i]).ToEquatableArray(), removedParams,
                    TotalParams == 0 ? 0 : (double)removedParams / TotalParams, loss, nodes)
                {
                    Ratio = ratio,
                    RequiredParams = required,
                };
            }
        }

        private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
    }
}
