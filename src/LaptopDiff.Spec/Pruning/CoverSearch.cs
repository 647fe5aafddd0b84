using System;
using System.Globalization;
using System.Linq;
using System.Numerics;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// The exact engine behind <see cref="KnapsackSolver"/>: min sum r_i s_i subject to sum r_i p_i &gt;= required,
    /// solved as the complementary 0/1 knapsack (keep the set of largest loss that fits in
    /// capacity = sum p_i - required) by depth-first branch and bound with the Dantzig (LP relaxation) bound.
    /// <para>
    /// Units of equal parameter count (a U-Net repeats its blocks: SDXL has 60 identical 1280-channel transformer
    /// blocks) form a group, and the search branches on how many of a group to keep: among equal-sized units
    /// the best kept ones are always those of largest loss, so a group of m units has m + 1 choices instead of
    /// 2^m. This keeps criteria whose losses nearly follow unit size (weight magnitude) tractable; per unit,
    /// such instances are the hard case for branch and bound.
    /// </para>
    /// <para>
    /// Exactness: parameter counts are longs, compared exactly. Losses are doubles; the objective is their exact
    /// real sum. Comparisons run in double arithmetic with a proven error margin and fall back to exact integer
    /// arithmetic (every double is an integer times a power of two) only when the margin cannot decide.
    /// </para>
    /// <para>
    /// Tie-break: among removal sets of equal loss, the removal vector r in execution order that is
    /// lexicographically smallest, i.e. at the first unit where two choices differ, the one that keeps it wins
    /// (so a set never beats its own subset). It is folded into the objective exactly: unit i (of n) adds
    /// 2^(n-1-i) below the lowest bit of any loss, so the optimum of the combined integer objective is unique.
    /// </para>
    /// </summary>
    internal sealed class CoverSearch
    {
        private readonly long[] _p;
        private readonly double[] _s;
        private readonly BigInteger[] _value;    // exact: loss scaled to an integer, shifted left n, plus the tie-break bit
        private readonly double _margin;         // absolute part of the error margin: the tie-break bits and subnormals
        private readonly double _relative;       // relative error bound of any double sum computed here
        private readonly long _nodeLimit;

        // groups of equal parameter count; members by value, best first
        private readonly int[][] _groups;
        private readonly double[][] _groupApprox;        // [g][k]: approximate value of keeping the first k members
        private readonly BigInteger[][] _groupExact;     // [g][k]: exact value of the same
        private readonly int[][] _freeAt;                // [d]: the items of groups d.., by value per parameter

        // the search
        private readonly int[] _count;                   // kept members per group, for groups decided so far
        private int[]? _best;                            // kept members per group of the incumbent
        private double _bestApprox;
        private BigInteger? _bestExact;

        public long Nodes { get; private set; }

        private CoverSearch(long[] p, double[] s, long nodeLimit)
        {
            int n = p.Length;
            _p = p;
            _s = s;
            _nodeLimit = nodeLimit;

            var (scaled, exponent) = ExactScale(s);
            _value = new BigInteger[n];
            for (int i = 0; i < n; i++) _value[i] = (scaled[i] << n) + (BigInteger.One << (n - 1 - i));
            // a sum of the tie-break bits is below 2^exponent (one unit of the smallest loss's last bit)
            _margin = 4 * Math.Pow(2, Math.Max(exponent, -1074)) + 1e-300;
            _relative = 4.0 * (n + 8) * Math.Pow(2, -52);

            _groups = Enumerable.Range(0, n).GroupBy(i => p[i])
                .Select(g => g.OrderByDescending(i => _value[i]).ToArray())
                .ToArray();
            // branch first on the groups whose best member is worth most per parameter
            Array.Sort(_groups, (a, b) => CompareRatio(a[0], b[0]));
            _groupApprox = new double[_groups.Length][];
            _groupExact = new BigInteger[_groups.Length][];
            for (int g = 0; g < _groups.Length; g++)
            {
                var members = _groups[g];
                _groupApprox[g] = new double[members.Length + 1];
                _groupExact[g] = new BigInteger[members.Length + 1];
                for (int k = 0; k < members.Length; k++)
                {
                    _groupApprox[g][k + 1] = _groupApprox[g][k] + s[members[k]];
                    _groupExact[g][k + 1] = _groupExact[g][k] + _value[members[k]];
                }
            }

            var byRatio = Enumerable.Range(0, n).ToArray();
            Array.Sort(byRatio, CompareRatio);
            var groupOf = new int[n];
            for (int g = 0; g < _groups.Length; g++) foreach (var i in _groups[g]) groupOf[i] = g;
            _freeAt = new int[_groups.Length + 1][];
            for (int d = 0; d <= _groups.Length; d++) _freeAt[d] = byRatio.Where(i => groupOf[i] >= d).ToArray();
            _count = new int[_groups.Length];
        }

        /// <summary>
        /// The removed item indices (ascending) of the optimal, tie-broken solution, or null when even removing
        /// every item leaves less than <paramref name="required"/> removed.
        /// </summary>
        public static (int[]? Removed, long Nodes) Solve(long[] p, double[] s, long required, long nodeLimit)
        {
            if (p.Length != s.Length) throw new ArgumentException("one loss per parameter count is needed");
            long total = 0;
            for (int i = 0; i < p.Length; i++)
            {
                if (p[i] < 0) throw new ArgumentOutOfRangeException(nameof(p), $"parameter count {p[i]} of item {i} is negative");
                if (!(s[i] >= 0 && s[i] <= CriterionFile.MaxLoss))
                    throw new ArgumentOutOfRangeException(nameof(s), $"loss {CriterionWriter.Number(s[i])} of item {i} is not a finite number in [0, {CriterionFile.MaxLoss}]");
                total = checked(total + p[i]);
            }
            if (required > total) return (null, 0);
            if (p.Length == 0) return (Array.Empty<int>(), 0);

            var search = new CoverSearch(p, s, nodeLimit);
            search.Node(0, total - Math.Max(required, 0), 0);

            var kept = new bool[p.Length];
            for (int g = 0; g < search._groups.Length; g++)
                for (int k = 0; k < search._best![g]; k++) kept[search._groups[g][k]] = true;
            return (Enumerable.Range(0, p.Length).Where(i => !kept[i]).ToArray(), search.Nodes);
        }

        /// <summary>Groups before <paramref name="d"/> are decided (<see cref="_count"/>); <paramref name="cap"/> parameters may still be kept.</summary>
        private void Node(int d, long cap, double value)
        {
            if (++Nodes > _nodeLimit)
                throw new InvalidOperationException(
                    $"the exact knapsack gave up after {_nodeLimit.ToString("N0", CultureInfo.InvariantCulture)} search nodes ({_p.Length} units in {_groups.Length} sizes); " +
                    "this should not happen for U-Nets of a few hundred units. Report it with the criterion file; a coarser granularity " +
                    "(transformer instead of transformer_block) has fewer units.");

            // Dantzig: keep free items by value per parameter while they fit; the first that does not is taken fractionally
            var free = _freeAt[d];
            int j = 0;
            double greedy = value;
            long left = cap;
            while (j < free.Length && _p[free[j]] <= left)
            {
                left -= _p[free[j]];
                greedy += _s[free[j]];
                j++;
            }

            // the greedy completion is feasible (removing more never breaks the constraint); within a group it keeps
            // the best members, as the search does, so it is a candidate
            int c = _best == null ? 1 : CompareApprox(greedy);
            if (c == 0) c = Exact(d, free, j).CompareTo(BestExact());
            if (c > 0)
            {
                _best = (int[])_count.Clone();
                for (int x = 0; x < j; x++) _best[GroupIndexOf(free[x], d)]++;
                _bestApprox = greedy;
                _bestExact = null;
            }
            if (j == free.Length) return;   // everything left fits: nothing in this subtree is better

            // left < p[frac], so left / p[frac] < 1 and the product cannot overflow
            int frac = free[j];
            double bound = greedy + left / (double)_p[frac] * _s[frac];
            c = CompareApprox(bound);
            if (c == 0) c = (Exact(d, free, j) * _p[frac] + left * _value[frac]).CompareTo(BestExact() * _p[frac]);
            if (c <= 0) return;

            var members = _groups[d];
            long weight = _p[members[0]];
            int most = weight == 0 ? members.Length : (int)Math.Min(members.Length, cap / weight);
            for (int k = most; k >= 0; k--)
            {
                _count[d] = k;
                Node(d + 1, cap - k * weight, value + _groupApprox[d][k]);
            }
            _count[d] = 0;
        }

        /// <summary>
        /// Sign of a value minus the incumbent's, where <paramref name="approx"/> approximates the value as this
        /// class computes doubles; 0 when they are within the error margin (the caller then compares exact integers).
        /// </summary>
        private int CompareApprox(double approx)
        {
            double margin = _relative * Math.Max(approx, _bestApprox) + _margin;
            if (approx > _bestApprox + margin) return 1;
            if (approx < _bestApprox - margin) return -1;
            return 0;
        }

        private BigInteger BestExact()
        {
            if (_bestExact is BigInteger known) return known;
            var sum = BigInteger.Zero;
            for (int g = 0; g < _groups.Length; g++) sum += _groupExact[g][_best![g]];
            _bestExact = sum;
            return sum;
        }

        /// <summary>Exact value of the decided groups plus the first <paramref name="j"/> free items.</summary>
        private BigInteger Exact(int d, int[] free, int j)
        {
            var sum = BigInteger.Zero;
            for (int g = 0; g < d; g++) sum += _groupExact[g][_count[g]];
            for (int x = 0; x < j; x++) sum += _value[free[x]];
            return sum;
        }

        private int GroupIndexOf(int item, int from)
        {
            for (int g = from; g < _groups.Length; g++)
                if (_p[_groups[g][0]] == _p[item]) return g;
            throw new InvalidOperationException("item without a group");
        }

        /// <summary>Value per parameter, descending, exact; weightless items first; ties by index.</summary>
        private int CompareRatio(int a, int b)
        {
            if (a == b) return 0;
            bool aFree = _p[a] == 0, bFree = _p[b] == 0;
            int c;
            if (aFree || bFree) c = aFree == bFree ? 0 : aFree ? -1 : 1;
            else c = (_value[b] * _p[a]).CompareTo(_value[a] * _p[b]);   // v_a/p_a > v_b/p_b first
            return c != 0 ? c : a.CompareTo(b);
        }

        /// <summary>
        /// Each finite double x &gt;= 0 is m * 2^e with integer m; with the smallest e of the nonzero values, every
        /// value is an exact integer multiple of 2^e, so sums and products of them are exact integers.
        /// </summary>
        private static (BigInteger[] Scaled, int Exponent) ExactScale(double[] values)
        {
            var mantissa = new long[values.Length];
            var exponent = new int[values.Length];
            int min = int.MaxValue;
            for (int i = 0; i < values.Length; i++)
            {
                long bits = BitConverter.DoubleToInt64Bits(values[i]) & long.MaxValue;   // -0.0 is 0
                int biased = (int)(bits >> 52);
                long fraction = bits & ((1L << 52) - 1);
                mantissa[i] = biased == 0 ? fraction : fraction | (1L << 52);
                exponent[i] = biased == 0 ? -1074 : biased - 1075;
                if (mantissa[i] != 0) min = Math.Min(min, exponent[i]);
            }
            if (min == int.MaxValue) min = -1074;   // all zero
            var result = new BigInteger[values.Length];
            for (int i = 0; i < values.Length; i++)
                result[i] = mantissa[i] == 0 ? BigInteger.Zero : new BigInteger(mantissa[i]) << (exponent[i] - min);
            return (result, min);
        }
    }
}
