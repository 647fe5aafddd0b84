using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// A student in place of a pipeline's U-Net: a spec whose <c>base:</c> is that U-Net's structure (a pruned spec from
/// <c>unet/config.json</c> or from a spec of the same structure; a full spec must be that structure itself) and
/// its weights, loaded strictly (a pruned model's file holds only its surviving units).
/// </summary>
public sealed record UNetReplacement(string SpecPath, string WeightsPath)
{
    /// <summary>Checks the structure against <paramref name="folder"/>'s U-Net before allocating anything, then loads.</summary>
    public UNet2DCondition Load(PipelineFolder folder)
    {
        var layout = SpecFiles.LoadLayout(SpecPath);
        var (baseSpec, basePath) = SpecFiles.LoadBase(SpecPath) ?? (layout.Spec, SpecPath);
        var teacher = folder.ImportUNetSpec();
        string expected = SpecHash.Compute(teacher), found = SpecHash.Compute(baseSpec);
        if (expected != found)
        {
            var what = basePath == SpecPath ? $"U-Net spec '{SpecPath}'" : $"U-Net spec '{SpecPath}' is based on '{basePath}', which";
            throw new PipelineException(
                $"{what} has another structure than the pipeline's U-Net ({folder.UNet.ConfigPath}): structure hash {found} " +
                $"({Params(baseSpec, basePath)} parameters) against {expected} ({Params(teacher, folder.UNet.ConfigPath!)}). " +
                "A student replaces the U-Net only when its base is that U-Net: prune from the folder's unet/config.json (or a spec of the same structure).");
        }
        var model = new UNet2DCondition(layout);
        try
        {
            WeightLoader.Load(model, WeightsPath);
            model.eval();
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    private static string Params(UNetSpec spec, string path) =>
        LayoutBuilder.BuildOrThrow(spec with { Removed = EquatableArray<string>.Empty }, path).TotalParamCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
