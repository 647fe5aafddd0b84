using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPConfig</c>: a text and a vision tower projected to <paramref name="ProjectionDim"/>
/// (the top-level value; the towers' own <c>projection_dim</c> is not used by <c>CLIPModel</c>).
/// </summary>
public sealed record ClipModelConfig(ClipTextConfig Text, ClipVisionConfig Vision, int ProjectionDim)
{
    public static ClipModelConfig Load(string path)
    {
        var root = ClipConfigFile.Read(path);
        var config = new ConfigReader(root, path);
        var modelType = config.String("model_type");
        if (modelType == "clip_text_model" || !root.TryGetProperty("vision_config", out var vision) || vision.ValueKind != JsonValueKind.Object)
            throw new DiffusersConfigException(path, "vision_config",
                "missing: this is a text-only CLIP config (e.g. a pipeline's text encoder); image-text scoring needs a CLIPModel folder " +
                "whose config.json has text_config and vision_config and whose weights hold vision_model.* and visual_projection");
        if (modelType is not (null or "clip"))
            throw config.Unsupported("model_type", modelType, "only CLIPModel (model_type 'clip') is implemented");
        if (!root.TryGetProperty("text_config", out var text) || text.ValueKind != JsonValueKind.Object)
            throw new DiffusersConfigException(path, "text_config", "missing: a CLIPModel config holds text_config and vision_config");
        // Errors inside a tower name it after the file: "config.json (vision_config): hidden_act: ...".
        return new ClipModelConfig(
            ClipTextConfig.Read(new ConfigReader(text, $"{path} (text_config)"), withProjection: false),
            ClipVisionConfig.Read(new ConfigReader(vision, $"{path} (vision_config)")),
            ClipConfigFile.Positive(config, "projection_dim", 512));
    }

    /// <summary>Both towers, both bias-free projections and <c>logit_scale</c>; allocates nothing.</summary>
    public long ParamCount =>
        Text.ParamCount + Vision.ParamCount
        + ClipParamCounts.Linear(Text.HiddenSize, ProjectionDim, bias: false)
        + ClipParamCounts.Linear(Vision.HiddenSize, ProjectionDim, bias: false) + 1;
}
