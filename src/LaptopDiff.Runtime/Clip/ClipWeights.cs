using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// Loads a CLIP checkpoint strictly, with one allowance: transformers saved the <c>position_ids</c> buffer
/// (0..N-1, int64) with the weights until v4.31, so older files (the SD-1.5 text encoder, openai/clip-vit-*)
/// carry <c>*.embeddings.position_ids</c> and newer ones do not. Both load; every other missing, unexpected
/// or mis-shaped key is a <see cref="WeightsException"/>.
/// </summary>
internal static class ClipWeights
{
    private static readonly HashSet<string> PositionIdKeys = ["text_model.embeddings.position_ids", "vision_model.embeddings.position_ids"];

    public static void Load(nn.Module module, string path) => Load(module, SafetensorsSet.Single(path));

    /// <summary>From one file or a shard set (a pipeline component's resolved weights, any variant).</summary>
    public static void Load(nn.Module module, SafetensorsSet weights)
    {
        var expected = module.state_dict().Select(t => new TensorKey(t.Key, t.Value.shape.ToEquatableArray())).ToList();
        var report = WeightReport.Compare(expected, weights);
        var unexpected = report.Unexpected.Where(k => !PositionIdKeys.Contains(k.Name)).ToList();
        if (report.Missing.Count > 0 || report.Mismatched.Count > 0 || unexpected.Count > 0)
            throw new WeightsException(new WeightReport(weights.Path, report.Missing, unexpected, report.Mismatched, report.Matched).Describe());
        WeightLoader.Load(module, weights, strict: false);
    }
}
