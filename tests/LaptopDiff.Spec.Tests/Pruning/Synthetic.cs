namespace LaptopDiff.Spec.Tests.Pruning;

/// <summary>Shipped layouts with seeded synthetic criterion files (losses loosely follow unit size, with noise).</summary>
internal static class Synthetic
{
    public static UNetLayout Layout(string file)
    {
        var path = Path.Combine(RepoPaths.Models, file);
        return LayoutBuilder.BuildOrThrow(SpecParser.Parse(path, File.ReadAllText(path)).GetSpecOrThrow(), path);
    }

    /// <summary>
    /// A criterion for every prunable unit: loss = (p / 1e7)^0.6 * lognormal(0, 1) / 100, so big units tend to
    /// cost more but with spread enough that loss per parameter orders them differently from size.
    /// </summary>
    public static CriterionFile Criterion(UNetLayout layout, int seed, Func<int, double, double>? adjust = null)
    {
        var random = new Random(seed);
        var units = layout.PrunableUnits.Select((u, i) =>
        {
            double gauss = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            double loss = Math.Pow(u.ParamCount / 1e7, 0.6) * Math.Exp(gauss) / 100;
            return new CriterionUnit
            {
                Id = u.Id,
                Params = u.ParamCount,
                Loss = adjust?.Invoke(i, loss) ?? loss,
                StdErr = loss / 20,
                Samples = 64,
            };
        });
        return new CriterionFile
        {
            Path = "synthetic.criterion.json",
            Criterion = CriterionFile.OutputLoss,
            Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = SpecHash.Compute(layout.Spec) },
            Calibration = new CriterionCalibration { Path = "calibration/prompts.txt", Samples = 64, Seed = seed, Timesteps = new[] { 999, 749, 499, 249 }.ToEquatableArray() },
            Created = "2026-11-25T10:00:00Z",
            Units = units.ToEquatableArray(),
        };
    }

    /// <summary>
    /// A costs file for every prunable unit of <paramref name="layout"/> at <paramref name="shape"/>: the layout's parameters
    /// and FLOPs, and latencies of <paramref name="latencyNs"/> whole nanoseconds per unit (written in ms, as profile writes them);
    /// the fixed rest is what the step holds beyond the units unless <paramref name="fixedNs"/> says otherwise (-1: none recorded).
    /// </summary>
    public static CostsFile Costs(UNetLayout layout, CostShape shape, IReadOnlyList<long> latencyNs, long stepNs, string path = "synthetic.costs.json",
        long? fixedNs = null)
    {
        long rest = fixedNs ?? stepNs - latencyNs.Sum();
        var flops = UNetFlops.Count(layout, shape);
        return new CostsFile
        {
            Path = path,
            Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = SpecHash.Compute(layout.Spec) },
            Device = "cpu: synthetic, 1 threads",
            Shape = shape,
            Runs = 3,
            Step = new StepCost { Params = layout.TotalParamCount, Flops = UNetFlops.Step(layout, shape), LatencyMs = stepNs / 1e6, FixedLatencyMs = rest < 0 ? null : rest / 1e6 },
            Units = layout.PrunableUnits.Select((u, i) => new UnitCost
            {
                Id = u.Id, Params = u.ParamCount, Flops = flops[u.Id], LatencyMs = latencyNs[i] / 1e6, LatencyIqrMs = 0.01,
            }).ToEquatableArray(),
        };
    }
}
