using System.Globalization;
using System.Security.Cryptography;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// The tiny-sd15 criterion shipped as models/tiny-sd15.criterion.json, computed the plain way (no sweep
/// machinery): for every prunable unit i, one forward of the fixture teacher (tiny-sd15.safetensors) on the
/// fixture inputs (tiny-sd15.io.safetensors, 2 samples) with only unit i masked; s_i is the mean over the
/// samples of the per-sample mean squared difference to the unmasked output (the sweep's unit), stderr the standard error of
/// that mean. Set LAPTOPDIFF_WRITE_CRITERION=1 and run <see cref="PruneCriterionFixtureTests"/> to rewrite the file.
/// </summary>
internal static class PruneCriterionFixture
{
    public const string Created = "2026-11-25T00:00:00Z";

    public static string SpecPath => Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml");
    public static string ShippedPath => Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.criterion.json");
    public static string Weights => TestPaths.DiffusersFixture("tiny-sd15.safetensors");
    public static string Inputs => TestPaths.DiffusersFixture("tiny-sd15.io.safetensors");

    public static string Provenance =>
        "../shared/fixtures/diffusers/tiny-sd15.io.safetensors (the diffusers fixture inputs, 2 samples at their own timesteps; " +
        "s_i = mean over samples of the MSE between a forward of tiny-sd15.safetensors with only unit i masked and the unmasked forward; " +
        "computed by tests/LaptopDiff.Runtime.Tests/Cli/PruneCriterionFixture.cs, not by the sweep)";

    /// <summary>The criterion, measured now.</summary>
    public static CriterionFile Measure()
    {
        var layout = SpecFiles.LoadLayout(SpecPath);
        using var scope = NewDisposeScope();
        using var model = new UNet2DCondition(layout);
        WeightLoader.Load(model, Weights, strict: true);
        model.eval();
        var inputs = UNetInputReader.Read(Inputs, layout);
        long n = inputs.Sample.shape[0];
        var units = new List<CriterionUnit>();
        using (inference_mode())
        {
            var teacher = model.Forward(inputs).Sample.to_type(ScalarType.Float64);
            foreach (var unit in layout.PrunableUnits)
            {
                var masked = model.Forward(inputs, model.Plan.Mask(unit.Id)).Sample.to_type(ScalarType.Float64);
                var perSample = (masked - teacher).square().reshape(n, -1).mean(new long[] { 1 });   // per-sample MSE, as the sweep
                var values = perSample.data<double>().ToArray();
                double mean = values.Average();
                double stderr = values.Length > 1
                    ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1) / values.Length)
                    : 0;
                units.Add(new CriterionUnit { Id = unit.Id, Params = unit.ParamCount, Loss = Round(mean), StdErr = Round(stderr), Samples = values.Length });
            }
        }
        return new CriterionFile
        {
            Criterion = CriterionFile.OutputLoss,
            Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = SpecHash.Compute(layout.Spec) },
            Calibration = new CriterionCalibration
            {
                Path = Provenance,
                Hash = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Inputs))),
                Samples = (int)n,
            },
            Created = Created,
            Units = units.ToEquatableArray(),
        };
    }

    /// <summary>6 significant digits: the float32 forwards differ in the last bits between machines, the file should not.</summary>
    private static double Round(double v) => double.Parse(v.ToString("G6", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}

public class PruneCriterionFixtureTests
{
    [Fact]
    public void ShippedTinySd15CriterionIsTheFixtureMeasurement()
    {
        var measured = PruneCriterionFixture.Measure();
        if (Environment.GetEnvironmentVariable("LAPTOPDIFF_WRITE_CRITERION") == "1")
            File.WriteAllText(PruneCriterionFixture.ShippedPath, CriterionWriter.Write(measured));

        var (shipped, diagnostics) = CriterionReader.Parse(PruneCriterionFixture.ShippedPath, File.ReadAllText(PruneCriterionFixture.ShippedPath));
        Assert.True(shipped != null, string.Join("\n", diagnostics));
        Assert.Empty(shipped!.CheckAgainst(SpecFiles.LoadLayout(PruneCriterionFixture.SpecPath)));
        Assert.Equal(measured.Units.Select(u => u.Id), shipped.Units.Select(u => u.Id));
        foreach (var (m, s) in measured.Units.Zip(shipped.Units))
        {
            Assert.Equal(m.Params, s.Params);
            Assert.True(Math.Abs(m.Loss - s.Loss) <= 1e-4 * Math.Max(m.Loss, 1e-6), $"{m.Id}: measured {m.Loss}, shipped {s.Loss}");
        }
    }
}
