namespace LaptopDiff.Spec.Tests.Pruning;

/// <summary>
/// Budgets of every kind (<see cref="PruneBudget"/>): the knapsack stays exact on parameters, FLOPs and latency, and a
/// costs file that does not fit the spec, batch or resolution, or a missing one, is refused with a clear diagnostic.
/// </summary>
public class BudgetTests
{
    private static readonly CostShape Shape = new(2, 16, 16, 7);

    [Theory]
    [InlineData(BudgetKind.Params, 1)]
    [InlineData(BudgetKind.Flops, 2)]
    [InlineData(BudgetKind.Latency, 3)]
    public void AgreesWithEnumerationOnRandomInstancesOfEveryKind(BudgetKind kind, int seed)
    {
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        var units = layout.PrunableUnits.ToList();
        var r = new Random(seed);
        for (int instance = 0; instance < 25; instance++)
        {
            // latencies in whole nanoseconds, with ties and zeros; the step adds a fixed rest
            var latencyNs = units.Select(_ => r.Next(5) switch { 0 => 0L, 1 => 2_000_000L, _ => (long)r.Next(1, 40_000_000) }).ToArray();
            long stepNs = latencyNs.Sum() + r.Next(1, 20_000_000);
            var costs = Synthetic.Costs(layout, Shape, latencyNs, stepNs);
            var (budget, diagnostics) = PruneBudget.Create(kind, layout, costs, Shape, "x.criterion.json");
            Assert.True(budget != null, string.Join("\n", diagnostics));

            // the costs as the test knows them, apart from the budget: parameters, the file's FLOPs, the drawn nanoseconds
            var (unitCosts, total) = kind switch
            {
                BudgetKind.Params => (units.Select(u => u.ParamCount).ToArray(), layout.BaseParamCount),
                BudgetKind.Flops => (costs.Units.Select(u => u.Flops).ToArray(), costs.Step.Flops),
                _ => (latencyNs, stepNs),
            };
            var criterion = Synthetic.Criterion(layout, seed * 100 + instance, (i, loss) => instance % 3 == 0 ? r.Next(4) / 8.0 : loss);
            double ratio = r.NextDouble() * 1.1 * unitCosts.Sum() / total;   // about 1 in 11 out of reach
            long required = KnapsackSolver.RequiredParams(Math.Min(ratio, 1), total);
            var expected = KnapsackSolverTests.BruteForce(unitCosts, criterion.Units.Select(u => u.Loss).ToArray(), required);

            var (solution, solveDiagnostics) = KnapsackSolver.TrySolve(layout, criterion, ratio, budget: budget);
            string what = $"{kind} #{instance} ratio {ratio}";
            if (expected == null)
            {
                Assert.True(solution == null, what + ": out of reach, but solved");
                Assert.Equal(SpecDiagnosticIds.InfeasibleRatio, Assert.Single(solveDiagnostics).Id);
                continue;
            }
            Assert.True(solution != null, what + ": " + string.Join("\n", solveDiagnostics));
            Assert.Equal(expected.Select(i => units[i].Id), solution.Removed);
            long removedCost = expected.Sum(i => unitCosts[i]);
            Assert.Equal(kind, solution.Budget);
            Assert.Equal(removedCost, solution.RemovedCost);
            Assert.Equal(required, solution.RequiredCost);
            Assert.Equal(total, solution.TotalCost);
            Assert.True(removedCost >= required, what);
            Assert.Equal(expected.Sum(i => units[i].ParamCount), solution.RemovedParams);
            Assert.Equal((double)removedCost / total, solution.AchievedRatio, 12);
        }
    }

    [Fact]
    public void TheLatencyTotalIsTheUnitsPlusTheFixedRestOrElseTheStep()
    {
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        var ns = layout.PrunableUnits.Select((_, i) => 1_000_000L + i).ToArray();
        // a step whose median (90 ms) is above its parts (units + 2 ms), as under load: the parts are the total
        var loaded = Synthetic.Costs(layout, Shape, ns, 90_000_000, fixedNs: 2_000_000);
        Assert.Equal(ns.Sum() + 2_000_000, PruneBudget.Create(BudgetKind.Latency, layout, loaded, Shape, "x").Budget!.Total);
        var noRest = Synthetic.Costs(layout, Shape, ns, 90_000_000, fixedNs: -1);
        Assert.Equal(90_000_000, PruneBudget.Create(BudgetKind.Latency, layout, noRest, Shape, "x").Budget!.Total);
    }

    [Fact]
    public void AFlopsOrLatencyBudgetWithoutCostsIsRefused()
    {
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        foreach (var kind in new[] { BudgetKind.Flops, BudgetKind.Latency })
        {
            var (budget, diagnostics) = PruneBudget.Create(kind, layout, null, Shape, "x.criterion.json");
            Assert.Null(budget);
            var d = Assert.Single(diagnostics);
            Assert.Equal(SpecDiagnosticIds.CostsMismatch, d.Id);
            Assert.Contains("needs a costs file", d.Message);
        }
        Assert.NotNull(PruneBudget.Create(BudgetKind.Params, layout, null, Shape, "x.criterion.json").Budget);
    }

    [Fact]
    public void ACostsFileOfAnotherBatchResolutionOrSpecIsRefused()
    {
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        var ns = layout.PrunableUnits.Select((_, i) => 1_000_000L * (i + 1)).ToArray();
        var costs = Synthetic.Costs(layout, Shape, ns, ns.Sum() + 1_000_000);

        string Refusal(CostsFile file, CostShape shape)
        {
            var (budget, diagnostics) = PruneBudget.Create(BudgetKind.Latency, layout, file, shape, "x.criterion.json");
            Assert.Null(budget);
            var d = Assert.Single(diagnostics);
            Assert.Equal(SpecDiagnosticIds.CostsMismatch, d.Id);
            return d.Message;
        }

        Assert.Contains("batch 2, 16x16 latents, but the budget is for batch 1, 16x16", Refusal(costs, Shape with { Batch = 1 }));
        Assert.Contains("but the budget is for batch 2, 32x16", Refusal(costs, Shape with { Height = 32 }));
        var sd15 = Synthetic.Layout("sd15.unet.yaml");
        Assert.Contains("structure hash", Refusal(Synthetic.Costs(sd15, Shape, sd15.PrunableUnits.Select(_ => 1L).ToArray(), 100), Shape));
        Assert.Contains("no entry for 1 prunable unit", Refusal(costs with { Units = costs.Units.Skip(1).ToEquatableArray() }, Shape));
        var wrongFlops = costs with { Units = costs.Units.Select((u, i) => i == 0 ? u with { Flops = u.Flops + 1 } : u).ToEquatableArray() };
        Assert.Contains($"unit '{costs.Units[0].Id}' has params", Refusal(wrongFlops, Shape));
    }

    [Fact]
    public void CostsFilesRoundTripAndMalformedOnesAreLd0017()
    {
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        var ns = layout.PrunableUnits.Select((_, i) => 1_234_567L * (i + 1)).ToArray();
        var costs = Synthetic.Costs(layout, Shape, ns, ns.Sum() + 3_000_001, path: "a.costs.json");
        var text = CostsWriter.Write(costs);
        var (read, diagnostics) = CostsReader.Parse("a.costs.json", text);
        Assert.Empty(diagnostics);
        Assert.Equal(costs.Shape, read!.Shape);
        Assert.Equal(costs.Step, read.Step);
        Assert.Equal(costs.Spec.Hash, read.Spec.Hash);
        Assert.Equal(costs.Units.Select(u => (u.Id, u.Params, u.Flops, u.LatencyMs, u.LatencyIqrMs)),
            read.Units.Select(u => (u.Id, u.Params, u.Flops, u.LatencyMs, u.LatencyIqrMs)));
        Assert.Empty(read.CheckAgainst(layout, Shape));

        var (bad, badDiagnostics) = CostsReader.Parse("b.costs.json", text.Replace("laptopdiff.costs/1", "laptopdiff.criterion/1"));
        Assert.Null(bad);
        Assert.Contains(badDiagnostics, d => d.Id == SpecDiagnosticIds.InvalidCosts && d.Message.Contains("is this a costs file"));
        var negative = costs with { Units = costs.Units.Select((u, i) => i == 2 ? u with { LatencyMs = -1 } : u).ToEquatableArray() };
        Assert.Contains(negative.CheckAgainst(layout, Shape), d => d.Id == SpecDiagnosticIds.InvalidCosts && d.Message.Contains("finite number >= 0"));
    }

    [Fact]
    public void ALatencyBudgetRemovesWhatIsSlowNotWhatIsBig()
    {
        // every unit loses the same; the latency budget must take the slowest units, the parameter budget the biggest
        var layout = Synthetic.Layout("tiny-sd15.unet.yaml");
        var units = layout.PrunableUnits.ToList();
        var ns = units.Select(u => u.Id.Contains("attentions") ? 10_000_000L : 1_000_000L).ToArray();
        var costs = Synthetic.Costs(layout, Shape, ns, ns.Sum());
        var criterion = Synthetic.Criterion(layout, 1, (_, _) => 0.25);
        var budget = PruneBudget.Create(BudgetKind.Latency, layout, costs, Shape, "x").Budget!;
        var solution = KnapsackSolver.Solve(layout, criterion, 0.4, budget: budget);
        // 6 attentions hold 60 of 70 ms: 28 ms need 3 of them, not 28 ResNets' worth
        Assert.Equal(3, solution.Removed.Count);
        Assert.All(solution.Removed, id => Assert.Contains("attentions", id));
        Assert.Equal(30_000_000L, solution.RemovedCost);
    }
}
