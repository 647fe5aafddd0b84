using LaptopDiff.Kernels;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Pruning;

/// <summary>The shipped tiny specs with their fixture weights, small synthetic calibration sets, and sweep helpers.</summary>
internal static class SweepTestKit
{
    public const string Sd15 = "tiny-sd15";
    public const string Sdxl = "tiny-sdxl";

    public static string SpecPath(string fixture) => Path.Combine(TestPaths.RepoRoot, "models", $"{fixture}.unet.yaml");
    public static string WeightsPath(string fixture) => TestPaths.DiffusersFixture($"{fixture}.safetensors");
    public static UNetLayout Layout(string fixture) => SpecFiles.LoadLayout(SpecPath(fixture));

    /// <summary>A synthetic set of <paramref name="samples"/> at 8x8 latents with 7 tokens (small: attention at 16x16 dominates the time).</summary>
    public static string WriteCalibration(string folder, string fixture, int samples, long seed = 0, string name = "calib.safetensors")
    {
        var path = Path.Combine(folder, name);
        SyntheticCalibration.Write(path, Layout(fixture), new SyntheticCalibrationOptions { Samples = samples, Seed = seed, Tokens = 7, SampleSize = 8 });
        return path;
    }

    public static UNet2DCondition LoadModel(string fixture)
    {
        var model = new UNet2DCondition(Layout(fixture));
        WeightLoader.Load(model, WeightsPath(fixture), strict: true);
        model.eval();
        return model;
    }

    /// <summary>The fused SIMD reduction the CLI uses (AblationLossAccumulator over SimdLossKernels).</summary>
    public static IAblationLossReducer KernelReducer() => new KernelLossReducer(new SimdLossKernels());

    /// <summary>An in-memory sweep of every unit (no files besides the calibration set).</summary>
    public static SweepRecord Sweep(string fixture, string calibration, SweepOptions options, IAblationLossReducer? reducer = null)
    {
        var layout = Layout(fixture);
        using var set = CalibrationSet.Load(calibration, layout);
        using var model = LoadModel(fixture);
        var identity = new SweepIdentity { SpecName = layout.Spec.Name, Samples = set.Count, Noising = options.Noising, Shard = options.Shard };
        var record = new SweepRecord(identity, layout.PrunableUnits.Select(u => new SweepUnit(u.Id, u.ParamCount)).ToList());
        AblationSweep.Run(model, set, record, options, new SweepHooks { Reducer = reducer });
        return record;
    }

    public static SweepRequest Request(string fixture, string calibration, string output, SweepOptions? options = null) => new()
    {
        Layout = Layout(fixture),
        WeightsPath = WeightsPath(fixture),
        CalibrationPath = calibration,
        OutputPath = output,
        Options = options ?? new SweepOptions { BatchSize = 4 },
        Created = "2026-01-01T00:00:00Z",
    };
}

/// <summary>A fresh folder per test, removed afterwards.</summary>
internal sealed class SweepFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("laptopdiff-sweep-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public string[] Files() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order().ToArray()!;
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
