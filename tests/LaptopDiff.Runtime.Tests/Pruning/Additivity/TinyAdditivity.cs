using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pruning.Additivity;

/// <summary>tiny-sd15 with the fixture weights, its spec path, and criterion files built in memory.</summary>
internal static class TinyAdditivity
{
    public static string SpecPath => Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml");
    public static string WeightsPath => TestPaths.DiffusersFixture("tiny-sd15.safetensors");

    public static UNet2DCondition LoadModel()
    {
        var model = new UNet2DCondition(SpecFiles.LoadLayout(SpecPath));
        WeightLoader.Load(model, WeightsPath, strict: true);
        model.eval();
        return model;
    }

    /// <summary>The reference criterion: per unit, the mean over samples of the per-sample MSE (the sweep's unit) from plain masked full forwards.</summary>
    public static Dictionary<string, double> NaiveOutputLosses(UNet2DCondition model, AdditivityInputs inputs)
    {
        var losses = new Dictionary<string, double>();
        using var mode = inference_mode();
        foreach (var unit in model.Layout.PrunableUnits)
        {
            double total = 0;
            foreach (var batch in inputs.Batches)
            {
                using var scope = NewDisposeScope();
                var teacher = model.Forward(batch).Sample.to_type(ScalarType.Float64);
                var ablated = model.Forward(batch, model.Plan.Mask(unit.Id)).Sample.to_type(ScalarType.Float64);
                total += (ablated - teacher).square().sum().item<double>() / (teacher.numel() / teacher.shape[0]);
            }
            losses[unit.Id] = total / inputs.Count;
        }
        return losses;
    }

    public static CriterionFile Criterion(UNetLayout layout, IReadOnlyDictionary<string, double> losses, string? hash = null) => new()
    {
        Criterion = CriterionFile.OutputLoss,
        Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = hash ?? SpecHash.Compute(layout.Spec) },
        Units = layout.PrunableUnits.Select(u => new CriterionUnit { Id = u.Id, Params = u.ParamCount, Loss = losses[u.Id] }).ToEquatableArray(),
    };

    public static bool IsPng(byte[] bytes) =>
        bytes.Length > 8 && bytes.Take(8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
}
