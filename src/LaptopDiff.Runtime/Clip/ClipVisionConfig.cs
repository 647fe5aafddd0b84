using LaptopDiff.Runtime.Diffusers;

namespace LaptopDiff.Runtime.Clip;

/// <summary>transformers' <c>CLIPVisionConfig</c> (defaults from its constructor): a ViT over square RGB images.</summary>
public sealed record ClipVisionConfig(
    int HiddenSize, int IntermediateSize, int NumHiddenLayers, int NumAttentionHeads, int ImageSize, int PatchSize,
    ClipActivation HiddenAct, double LayerNormEps)
{
    /// <summary>The class token plus one position per patch.</summary>
    public int Positions => (ImageSize / PatchSize) * (ImageSize / PatchSize) + 1;

    internal static ClipVisionConfig Read(ConfigReader config)
    {
        var modelType = config.String("model_type");
        if (modelType is not (null or "clip_vision_model"))
            throw config.Unsupported("model_type", modelType, "only CLIP vision towers (clip_vision_model) are implemented");
        int hidden = ClipConfigFile.Positive(config, "hidden_size", 768);
        int heads = ClipConfigFile.Positive(config, "num_attention_heads", 12);
        if (hidden % heads != 0)
            throw config.Unsupported("num_attention_heads", heads.ToString(), $"must divide hidden_size {hidden}");
        int channels = config.Int("num_channels") ?? 3;
        if (channels != 3) throw config.Unsupported("num_channels", channels.ToString(), "images are RGB (3 channels)");
        int imageSize = ClipConfigFile.Positive(config, "image_size", 224);
        int patchSize = ClipConfigFile.Positive(config, "patch_size", 32);
        if (patchSize > imageSize)
            throw config.Unsupported("patch_size", patchSize.ToString(), $"larger than image_size {imageSize}");
        var act = config.String("hidden_act") ?? "quick_gelu";
        return new ClipVisionConfig(
            HiddenSize: hidden,
            IntermediateSize: ClipConfigFile.Positive(config, "intermediate_size", 3072),
            NumHiddenLayers: ClipConfigFile.Positive(config, "num_hidden_layers", 12),
            NumAttentionHeads: heads,
            ImageSize: imageSize,
            PatchSize: patchSize,
            HiddenAct: ClipActivations.Parse(act) ?? throw config.Unsupported("hidden_act", act, "only quick_gelu and gelu are implemented"),
            LayerNormEps: config.Double("layer_norm_eps") ?? 1e-5);
    }

    /// <summary>Class embedding, patch convolution (no bias), positions, pre and post LayerNorms and the layers.</summary>
    public long ParamCount =>
        HiddenSize + 3L * PatchSize * PatchSize * HiddenSize + (long)Positions * HiddenSize
        + 2 * ClipParamCounts.LayerNorm(HiddenSize) + NumHiddenLayers * ClipParamCounts.EncoderLayer(HiddenSize, IntermediateSize);
}
