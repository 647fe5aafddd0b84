using LaptopDiff.Runtime.Pruning;

namespace LaptopDiff.Runtime.Tests.Pruning;

/// <summary>DESIGN "exactness first": the prefix-cached, batched sweep equals m full masked forwards per batch.</summary>
public sealed class SweepExactnessTests
{
    /// <summary>On s_i, the criterion the knapsack reads.</summary>
    private const double UnitTolerance = 1e-5;

    /// <summary>
    /// On one sample's loss ||eps_-i - eps_T||^2 / n: a difference of two nearly equal float32 outputs, so their
    /// rounding (about 1e-7 relative, and it differs with the batch composition) is amplified for units whose
    /// removal barely changes the output.
    /// </summary>
    private const double SampleTolerance = 1e-4;

    /// <remarks>
    /// With the naive sweep's batch and one ablation per forward the fast sweep runs the same float32 operations
    /// on the same tensors (measured: 5e-9 relative, the reduction's rounding). Other batch compositions (batch 3
    /// of 5 samples, A states joined into one batch) round the outputs differently; measured worst 2.3e-6 on s_i.
    /// </remarks>
    [Theory]
    [InlineData(SweepTestKit.Sd15, 5, 1)]
    [InlineData(SweepTestKit.Sd15, 3, 3)]    // uneven batches (3 + 2), groups of 3 suffixes
    [InlineData(SweepTestKit.Sdxl, 5, 1)]
    [InlineData(SweepTestKit.Sdxl, 5, 4)]    // transformer_block granularity: groups join inside a Transformer2D
    public void Fast_sweep_equals_naive_sweep(string fixture, int batch, int ablationsPerForward)
    {
        using var folder = new SweepFolder();
        var calibration = SweepTestKit.WriteCalibration(folder.Path, fixture, samples: 5);
        var naive = SweepTestKit.Sweep(fixture, calibration, new SweepOptions { BatchSize = 5, Strategy = SweepStrategy.Naive }, new TorchLossReducer());
        var fast = SweepTestKit.Sweep(fixture, calibration,
            new SweepOptions { BatchSize = batch, AblationsPerForward = ablationsPerForward }, SweepTestKit.KernelReducer());

        Assert.Equal(SweepTestKit.Layout(fixture).PrunableUnits.Count(), fast.Losses.Count);
        double worstUnit = 0, worstSample = 0;
        foreach (var (id, expected) in naive.Losses)
        {
            var actual = fast.LossesOf(id);
            var (e, _) = SweepCriterion.MeanAndStdErr(expected);
            var (a, _) = SweepCriterion.MeanAndStdErr(actual);
            Assert.True(e > 0, $"{id}: removing a unit of a random-weight U-Net should change its output");
            worstUnit = Math.Max(worstUnit, Math.Abs(a - e) / e);
            Assert.True(Math.Abs(a - e) <= UnitTolerance * e, $"{id}: s_i fast {a:R} vs naive {e:R} (rel {Math.Abs(a - e) / e:E2})");
            for (int j = 0; j < expected.Length; j++)
            {
                double es = expected[j]!.Value, acs = actual[j]!.Value;
                worstSample = Math.Max(worstSample, Math.Abs(acs - es) / es);
                Assert.True(Math.Abs(acs - es) <= SampleTolerance * es, $"{id} sample {j}: fast {acs:R} vs naive {es:R} (rel {Math.Abs(acs - es) / es:E2})");
            }
        }
        Console.WriteLine($"{fixture} B={batch} A={ablationsPerForward}: worst relative difference {worstUnit:E2} per unit, {worstSample:E2} per sample");
        // one teacher forward per batch either way; the fast sweep runs suffixes, grouped A at a time
        Assert.Equal(1, naive.TeacherForwards);
        int batches = (5 + batch - 1) / batch, units = fast.Losses.Count;
        Assert.Equal(batches, fast.TeacherForwards);
        Assert.Equal(batches * ((units + ablationsPerForward - 1) / ablationsPerForward), fast.AblatedForwards);
    }
}
