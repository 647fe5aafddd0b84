using System.Numerics;

namespace LaptopDiff.Spec.Tests.Pruning;

/// <summary>The knapsack is exact: it agrees with enumeration of every subset, tie-break included.</summary>
public class KnapsackSolverTests
{
    /// <summary>
    /// The reference: every subset, exact loss sums (each double is an integer times a power of two), the
    /// smallest loss, ties to the lexicographically smallest removal vector (the first differing unit is kept).
    /// </summary>
    internal static int[]? BruteForce(long[] p, double[] s, long required)
    {
        int n = p.Length;
        var exact = ExactIntegers(s);
        int best = -1, mask = 0;
        BigInteger bestLoss = default, loss = BigInteger.Zero;
        long removed = 0;
        for (int step = 0; step < 1 << n; step++)
        {
            if (step > 0)
            {
                // Gray code: one unit enters or leaves the set per step
                int i = BitOperations.TrailingZeroCount(step);
                mask ^= 1 << i;
                if ((mask >> i & 1) != 0) { removed += p[i]; loss += exact[i]; }
                else { removed -= p[i]; loss -= exact[i]; }
            }
            if (removed < required) continue;
            int c = best < 0 ? -1 : loss.CompareTo(bestLoss);
            if (c < 0 || (c == 0 && LexSmaller(mask, best))) { best = mask; bestLoss = loss; }
        }
        return best < 0 ? null : Enumerable.Range(0, n).Where(i => (best >> i & 1) != 0).ToArray();
    }

    /// <summary>Removal vectors (bit i = unit i) compared in execution order: the set that keeps the first differing unit is smaller.</summary>
    private static bool LexSmaller(int a, int b)
    {
        if (a == b) return false;
        int j = BitOperations.TrailingZeroCount(a ^ b);   // first unit in one set and not the other
        return (a >> j & 1) == 0;
    }

    /// <summary>Written apart from the solver's own conversion: x = m * 2^e via Math functions, scaled to a common e.</summary>
    private static BigInteger[] ExactIntegers(double[] s)
    {
        var parts = s.Select(x =>
        {
            if (x == 0) return (M: 0L, E: 0);
            int e = Math.ILogB(x) - 52;
            if (e < -1074) e = -1074;
            double m = Math.ScaleB(x, -e);
            Assert.Equal(Math.Floor(m), m);
            return (M: (long)m, E: e);
        }).ToArray();
        int min = parts.Where(t => t.M != 0).Select(t => t.E).DefaultIfEmpty(0).Min();
        return parts.Select(t => new BigInteger(t.M) << (t.E - min)).ToArray();
    }

    private static void AssertAgreesWithBruteForce(long[] p, double[] s, long required, string what)
    {
        var expected = BruteForce(p, s, required);
        var (actual, _) = KnapsackSolver.MinimumCover(p, s, required);
        if (expected == null) Assert.True(actual == null, what + ": infeasible, solver found a set");
        else Assert.True(actual != null && expected.SequenceEqual(actual.Value),
            $"{what}: expected [{string.Join(",", expected)}], got [{(actual == null ? "null" : string.Join(",", actual.Value))}]");
    }

    public enum LossKind { Continuous, SmallIntegers, WithZeros, AllEqual, Proportional, TinyAndHuge }

    private static double Loss(Random r, LossKind kind, long p) => kind switch
    {
        LossKind.Continuous => r.NextDouble() * Math.Pow(10, r.Next(-4, 1)),
        LossKind.SmallIntegers => r.Next(0, 5) / 8.0,                      // many exact ties
        LossKind.WithZeros => r.Next(3) == 0 ? 0.0 : r.NextDouble(),
        LossKind.AllEqual => 0.25,
        LossKind.Proportional => p / 1024.0,                             // every set of equal size ties
        LossKind.TinyAndHuge => r.Next(2) == 0 ? r.NextDouble() * 1e-300 : r.NextDouble() * 1e6,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [InlineData(LossKind.Continuous, 1)]
    [InlineData(LossKind.SmallIntegers, 2)]
    [InlineData(LossKind.WithZeros, 3)]
    [InlineData(LossKind.AllEqual, 4)]
    [InlineData(LossKind.Proportional, 5)]
    [InlineData(LossKind.TinyAndHuge, 6)]
    public void AgreesWithBruteForceOnRandomInstances(LossKind kind, int seed)
    {
        var r = new Random(seed);
        for (int instance = 0; instance < 120; instance++)
        {
            int n = 1 + r.Next(14);
            // params: realistic (up to ~1.3e9), some equal, occasionally tiny
            var p = new long[n];
            for (int i = 0; i < n; i++)
                p[i] = r.Next(4) switch
                {
                    0 => 2_255_040L * (1 + r.Next(3)),
                    1 => 1 + r.Next(1000),
                    _ => (long)(r.NextDouble() * 1.3e9) + 1,
                };
            var s = p.Select(x => Loss(r, kind, x)).ToArray();
            long prunable = p.Sum();
            long total = prunable + (long)(r.NextDouble() * 5e8);
            double ratio = r.NextDouble() * 1.1 * prunable / total;       // about 1 in 11 infeasible
            long required = KnapsackSolver.RequiredParams(Math.Min(ratio, 1), total);
            AssertAgreesWithBruteForce(p, s, required, $"{kind} #{instance} n={n} required={required}");
        }
    }

    [Fact]
    public void AgreesWithBruteForceOnTwentyUnits()
    {
        var r = new Random(20);
        for (int instance = 0; instance < 3; instance++)
        {
            var p = Enumerable.Range(0, 20).Select(_ => (long)(r.NextDouble() * 1.2e9) + 1).ToArray();
            var s = instance == 2 ? p.Select(_ => r.Next(6) / 4.0).ToArray() : p.Select(_ => r.NextDouble() / 10).ToArray();
            AssertAgreesWithBruteForce(p, s, p.Sum() * (3 + instance) / 8, $"n=20 #{instance}");
        }
    }

    [Fact]
    public void TiesGoToTheLexicographicallySmallestRemovalVector()
    {
        // four identical units, two needed: r = 0011 is the smallest of the six choices
        var (removed, _) = KnapsackSolver.MinimumCover(new long[] { 10, 10, 10, 10 }, new[] { 1.0, 1.0, 1.0, 1.0 }, 20);
        Assert.Equal(new[] { 2, 3 }, removed!.Value);
        // {1}, {2}, {1, 3}, {2, 3} all cost 1: unit 1 is kept first, then the zero-loss unit 3 is not removed needlessly
        (removed, _) = KnapsackSolver.MinimumCover(new long[] { 5, 10, 10, 7 }, new[] { 2.0, 1.0, 1.0, 0.0 }, 10);
        Assert.Equal(new[] { 2 }, removed!.Value);
        // equal loss by a different route: {0} (loss 3) and {1, 2} (1 + 2) tie; {1, 2} keeps unit 0
        (removed, _) = KnapsackSolver.MinimumCover(new long[] { 20, 10, 10 }, new[] { 3.0, 1.0, 2.0 }, 20);
        Assert.Equal(new[] { 1, 2 }, removed!.Value);
        (removed, _) = KnapsackSolver.MinimumCover(new long[] { 10, 10, 20 }, new[] { 1.0, 2.0, 3.0 }, 20);
        Assert.Equal(new[] { 2 }, removed!.Value);
        // all zero: nothing needs to be removed beyond the ratio, and the latest units go
        (removed, _) = KnapsackSolver.MinimumCover(new long[] { 3, 3, 3, 3, 3 }, new double[5], 7);
        Assert.Equal(new[] { 2, 3, 4 }, removed!.Value);
    }

    [Fact]
    public void ComparesExactSumsNotRoundedOnes()
    {
        // 0.1 + 0.2 rounds to 0.30000000000000004 and 0.3 to 0.29999999999999998890: {2} is strictly better.
        var (removed, _) = KnapsackSolver.MinimumCover(new long[] { 1, 1, 2 }, new[] { 0.1, 0.2, 0.3 }, 2);
        Assert.Equal(new[] { 2 }, removed!.Value);
        // 1 + 2^-53 + 2^-53 equals 1 + 2^-52 exactly, but adding left to right in doubles gives 1: a real tie,
        // which keeps unit 0
        double u = Math.Pow(2, -53);
        (removed, _) = KnapsackSolver.MinimumCover(new long[] { 1, 1, 1, 3 }, new[] { 1.0, u, u, 1 + 2 * u }, 3);
        Assert.Equal(new[] { 3 }, removed!.Value);
        (removed, _) = KnapsackSolver.MinimumCover(new long[] { 3, 1, 1, 1 }, new[] { 1 + 2 * u, 1.0, u, u }, 3);
        Assert.Equal(new[] { 1, 2, 3 }, removed!.Value);
        // and with the later unit a hair cheaper it must win, though doubles cannot tell the sums apart
        (removed, _) = KnapsackSolver.MinimumCover(new long[] { 1, 1, 1, 3 }, new[] { 1.0, u, 2 * u, 1 + 2 * u }, 3);
        Assert.Equal(new[] { 3 }, removed!.Value);
        // keeping {1, u, u, u, u} (exactly 1 + 4u, but 1 when added in doubles) beats keeping {1 + 2u}: remove the latter
        (removed, _) = KnapsackSolver.MinimumCover(new long[] { 1, 1, 1, 1, 1, 5 }, new[] { 1.0, u, u, u, u, 1 + 2 * u }, 5);
        Assert.Equal(new[] { 5 }, removed!.Value);
    }

    [Fact]
    public void HugeParameterCountsStayExact()
    {
        // counts near 2^31 each, sum near 1.7e10, required exactly the sum of a subset: off-by-one matters
        long[] p = { 2_147_483_647, 2_147_483_646, 2_147_483_645, 1_999_999_999, 1_000_000_001, 4_294_967_296, 3_000_000_000, 999_999_999 };
        double[] s = { 0.5, 0.49, 0.48, 0.3, 0.2, 1.0, 0.7, 0.21 };
        long exact = p[3] + p[4];   // 3,000,000,000 with loss 0.5; p[6] alone also 3e9 with loss 0.7
        AssertAgreesWithBruteForce(p, s, exact, "exactly reachable");
        Assert.Equal(new[] { 3, 4 }, KnapsackSolver.MinimumCover(p, s, exact).Removed!.Value);
        AssertAgreesWithBruteForce(p, s, exact + 1, "one above");
        Assert.NotEqual(new[] { 3, 4 }, KnapsackSolver.MinimumCover(p, s, exact + 1).Removed!.Value);
        AssertAgreesWithBruteForce(p, s, p.Sum(), "everything");
        Assert.Null(KnapsackSolver.MinimumCover(p, s, p.Sum() + 1).Removed);
    }

    [Fact]
    public void RequiredParamsIsTheExactCeiling()
    {
        Assert.Equal(85_952_097L, KnapsackSolver.RequiredParams(0.1, 859_520_964));   // 85,952,096.4
        Assert.Equal(429_760_482L, KnapsackSolver.RequiredParams(0.5, 859_520_964));
        Assert.Equal(100L, KnapsackSolver.RequiredParams(0.1, 1000));   // the double 0.1 is above 1/10: ceil of it would be 101
        Assert.Equal(29L, KnapsackSolver.RequiredParams(0.29, 100));     // 0.29 * 100 is 28.999999999999996 in doubles
        Assert.Equal(6_300_000_000_000_000_001L, KnapsackSolver.RequiredParams(0.7, 9_000_000_000_000_000_001));   // beyond double precision
        Assert.Equal(1L, KnapsackSolver.RequiredParams(1e-30, 859_520_964));
        Assert.Equal(0L, KnapsackSolver.RequiredParams(0, 859_520_964));
        Assert.Equal(859_520_964L, KnapsackSolver.RequiredParams(1, 859_520_964));
        Assert.Throws<ArgumentOutOfRangeException>(() => KnapsackSolver.RequiredParams(double.NaN, 10));
    }

    [Fact]
    public void TheNodeLimitIsAClearError()
    {
        var layout = Synthetic.Layout("sdxl.unet.yaml");
        var e = Assert.Throws<InvalidOperationException>(() => KnapsackSolver.Solve(layout, Synthetic.Criterion(layout, 2), 0.4, nodeLimit: 10));
        Assert.Contains("gave up after 10 search nodes (83 units in 10 sizes)", e.Message);
    }

    [Fact]
    public void GreedyIsWorseThanExactOnAConstructedCase()
    {
        // by loss per parameter greedy takes unit 0 (0.0083/param) then must add another: 0.5 + 0.45 = 0.95;
        // the exact answer removes units 1 and 2: 100 parameters for 0.91
        long[] p = { 60, 50, 50 };
        double[] s = { 0.5, 0.45, 0.46 };
        Assert.Equal(new[] { 0, 1 }, KnapsackSolver.GreedyCover(p, s, 100)!.Value);
        Assert.Equal(new[] { 1, 2 }, KnapsackSolver.MinimumCover(p, s, 100).Removed!.Value);
    }

    [Fact]
    public void OnSd15ExactNeverLosesToGreedyAndOftenBeatsIt()
    {
        var layout = Synthetic.Layout("sd15.unet.yaml");
        int strictlyBetter = 0;
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var criterion = Synthetic.Criterion(layout, seed);
            foreach (var ratio in new[] { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6 })
            {
                var exact = KnapsackSolver.Solve(layout, criterion, ratio);
                var greedy = KnapsackSolver.Greedy(layout, criterion, ratio);
                Assert.True(greedy.RemovedParams >= greedy.RequiredParams);
                Assert.True(exact.PredictedLoss <= greedy.PredictedLoss * (1 + 1e-12), $"seed {seed} ratio {ratio}: exact {exact.PredictedLoss} > greedy {greedy.PredictedLoss}");
                if (exact.PredictedLoss < greedy.PredictedLoss * (1 - 1e-6)) strictlyBetter++;
            }
        }
        Assert.True(strictlyBetter >= 9, $"exact beat greedy in only {strictlyBetter} of 18 cases");
    }

    /// <summary>Synthetic losses that are multiples of 2^-40 below 1, so every double sum in these tests is exact.</summary>
    public enum DyadicKind { LogNormal, Proportional, Magnitude }

    private static CriterionFile DyadicCriterion(UNetLayout layout, int seed, DyadicKind kind)
    {
        var r = new Random(seed);
        return Synthetic.Criterion(layout, seed, (i, loss) => kind switch
        {
            DyadicKind.LogNormal => Math.Round(Math.Min(loss, 0.999) * (1 << 20)) / (1 << 20),
            // loss proportional to size: every set of equal size ties, the hard case per unit
            DyadicKind.Proportional => layout.PrunableUnits.ElementAt(i).ParamCount / Math.Pow(2, 30),
            // like a weight-magnitude criterion: size times a mean |w| that varies by a few percent
            _ => layout.PrunableUnits.ElementAt(i).ParamCount * (1024.0 + r.Next(0, 40)) / Math.Pow(2, 40),
        });
    }

    /// <summary>
    /// An independent exact optimum on a real 34-unit layout: meet in the middle (every subset of each half,
    /// one half sorted by parameters with suffix minima of loss). Losses are dyadic, so the optima must be
    /// bit-identical.
    /// </summary>
    [Theory]
    [InlineData("sd15.unet.yaml", 11, DyadicKind.LogNormal)]
    [InlineData("sd15.unet.yaml", 12, DyadicKind.Proportional)]
    [InlineData("sd15.unet.yaml", 13, DyadicKind.Magnitude)]
    [InlineData("tiny-sdxl.unet.yaml", 14, DyadicKind.Magnitude)]
    public void MatchesMeetInTheMiddleOnShippedLayouts(string file, int seed, DyadicKind kind)
    {
        var layout = Synthetic.Layout(file);
        var criterion = DyadicCriterion(layout, seed, kind);
        var p = layout.PrunableUnits.Select(u => u.ParamCount).ToArray();
        var s = criterion.Units.Select(u => u.Loss).ToArray();
        int half = p.Length / 2;
        var left = Subsets(p[..half], s[..half]);
        var right = Subsets(p[half..], s[half..]);
        Array.Sort(right.Select(x => x.P).ToArray(), right);
        var suffixMin = new double[right.Length + 1];
        suffixMin[right.Length] = double.PositiveInfinity;
        for (int i = right.Length - 1; i >= 0; i--) suffixMin[i] = Math.Min(right[i].S, suffixMin[i + 1]);
        var rightP = right.Select(x => x.P).ToArray();

        foreach (var ratio in new[] { 0.1, 0.25, 0.4, 0.55 })
        {
            long required = KnapsackSolver.RequiredParams(ratio, layout.TotalParamCount);
            double best = double.PositiveInfinity;
            foreach (var (lp, ls) in left)
            {
                int lo = 0, hi = rightP.Length;   // first right subset with at least required - lp parameters
                while (lo < hi) { int mid = (lo + hi) / 2; if (rightP[mid] < required - lp) lo = mid + 1; else hi = mid; }
                best = Math.Min(best, ls + suffixMin[lo]);
            }
            var solution = KnapsackSolver.Solve(layout, criterion, ratio);
            Assert.Equal(best, solution.PredictedLoss);
            Assert.True(solution.RemovedParams >= required);
        }
    }

    /// <summary>
    /// SDXL's 83 units are too many to enumerate, but its 10 distinct unit sizes are not: among units of equal
    /// size the removed ones are the cheapest (exchange argument), so every count vector (1.16 million) is a
    /// candidate; this enumerates them all, with no bound, for the hard criteria.
    /// </summary>
    [Theory]
    [InlineData(DyadicKind.Proportional)]
    [InlineData(DyadicKind.Magnitude)]
    public void MatchesEnumerationOfSizeCountsOnSdxl(DyadicKind kind)
    {
        var layout = Synthetic.Layout("sdxl.unet.yaml");
        var criterion = DyadicCriterion(layout, 21, kind);
        var groups = criterion.Units.GroupBy(u => u.Params)
            .Select(g => (P: g.Key, Prefix: g.Select(u => u.Loss).OrderBy(x => x).Prepend(0.0).ToArray()))
            .ToArray();
        for (int g = 0; g < groups.Length; g++)
            for (int k = 1; k < groups[g].Prefix.Length; k++) groups[g].Prefix[k] += groups[g].Prefix[k - 1];

        var ratios = new[] { 0.2, 0.45, 0.6 };
        var required = ratios.Select(x => KnapsackSolver.RequiredParams(x, layout.TotalParamCount)).ToArray();
        var best = ratios.Select(_ => double.PositiveInfinity).ToArray();
        void Enumerate(int g, long removed, double loss)
        {
            if (g == groups.Length)
            {
                for (int x = 0; x < ratios.Length; x++)
                    if (removed >= required[x] && loss < best[x]) best[x] = loss;
                return;
            }
            for (int k = 0; k < groups[g].Prefix.Length; k++) Enumerate(g + 1, removed + k * groups[g].P, loss + groups[g].Prefix[k]);
        }
        Enumerate(0, 0, 0);

        var frontier = KnapsackSolver.Frontier(layout, criterion, ratios);
        Assert.Equal(best, frontier.Select(f => f.PredictedLoss));
        Assert.All(frontier, f => Assert.True(f.NodesExplored < 200_000, $"{f.NodesExplored} nodes at ratio {f.Ratio}"));
    }

    private static (long P, double S)[] Subsets(long[] p, double[] s)
    {
        var result = new (long, double)[1 << p.Length];
        long sp = 0; double ss = 0; int mask = 0;
        for (int step = 1; step < result.Length; step++)
        {
            int i = BitOperations.TrailingZeroCount(step);
            mask ^= 1 << i;
            if ((mask >> i & 1) != 0) { sp += p[i]; ss += s[i]; } else { sp -= p[i]; ss -= s[i]; }
            result[step] = (sp, ss);
        }
        return result;
    }

    [Fact]
    public void FrontierIsMonotoneAndMeetsEveryRatio()
    {
        var layout = Synthetic.Layout("sdxl.unet.yaml");
        var criterion = Synthetic.Criterion(layout, 7);
        var ratios = new[] { 0.6, 0.1, 0.2, 0.3, 0.4, 0.5 };
        var frontier = KnapsackSolver.Frontier(layout, criterion, ratios);
        Assert.Equal(ratios, frontier.Select(f => f.Ratio));
        foreach (var f in frontier)
        {
            Assert.Equal(KnapsackSolver.RequiredParams(f.Ratio, 2_567_463_684), f.RequiredParams);
            Assert.True(f.RemovedParams >= f.RequiredParams);
            Assert.True(f.AchievedRatio >= f.Ratio);
            Assert.Equal(f.RemovedParams, layout.Components.Where(c => f.Removed.Contains(c.Id)).Sum(c => c.ParamCount));
            Assert.Equal(f, KnapsackSolver.Solve(layout, criterion, f.Ratio));   // deterministic
        }
        var sorted = frontier.OrderBy(f => f.Ratio).ToList();
        for (int i = 1; i < sorted.Count; i++)
            Assert.True(sorted[i].PredictedLoss > sorted[i - 1].PredictedLoss, "a larger ratio cannot cost less");
    }

    [Fact]
    public void InfeasibleRatioNamesTheMaximum()
    {
        var layout = Synthetic.Layout("sd15.unet.yaml");
        var criterion = Synthetic.Criterion(layout, 1);
        var (solution, diagnostics) = KnapsackSolver.TrySolve(layout, criterion, 0.9, "sd15.prune.yaml", new SourceSpan(3, 8, 3, 11));
        Assert.Null(solution);
        var d = Assert.Single(diagnostics);
        Assert.Equal(SpecDiagnosticIds.InfeasibleRatio, d.Id);
        Assert.Equal("sd15.prune.yaml(3,8): error LD0016: pruning ratio 0.9 needs 773,568,868 of Sd15UNet's 859,520,964 parameters removed, " +
                     "but its 34 prunable units hold only 752,558,400: the maximum achievable ratio is 0.8755", d.ToString());
        Assert.NotNull(KnapsackSolver.TrySolve(layout, criterion, 0.8755).Solution);
        Assert.Equal(34, KnapsackSolver.Solve(layout, criterion, 0.8755).Removed.Count);

        Assert.Contains("between 0 and 1", KnapsackSolver.TrySolve(layout, criterion, -0.1).Diagnostics.Single().Message);
        Assert.Contains("between 0 and 1", KnapsackSolver.TrySolve(layout, criterion, double.NaN).Diagnostics.Single().Message);
        var e = Assert.Throws<SpecException>(() => KnapsackSolver.Frontier(layout, criterion, new[] { 0.5, 0.95 }));
        Assert.Equal(SpecDiagnosticIds.InfeasibleRatio, e.Diagnostics.Single().Id);
        Assert.Empty(KnapsackSolver.Solve(layout, criterion, 0).Removed);
    }

    [Fact]
    public void ZeroLossUnitsGoFirstAndNanLossesAreRefused()
    {
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        var free = layout.PrunableUnits.Select(u => u.Id).ToList();
        var criterion = Synthetic.Criterion(layout, 5, (i, loss) => i == 3 || i == 9 ? 0.0 : loss);
        var solution = KnapsackSolver.Solve(layout, criterion, 0.3);
        Assert.Contains(free[3], solution.Removed);
        Assert.Contains(free[9], solution.Removed);

        var broken = Synthetic.Criterion(layout, 5, (i, loss) => i == 4 ? double.NaN : loss);
        var e = Assert.Throws<SpecException>(() => KnapsackSolver.Solve(layout, broken, 0.3));
        Assert.Contains($"unit '{free[4]}' has loss NaN", Assert.Single(e.Diagnostics).Message);
    }
}
