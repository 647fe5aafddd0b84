using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPTextConfig</c> (defaults from its constructor). <paramref name="WithProjection"/> says
/// whether the model is <c>CLIPTextModelWithProjection</c> (adds <c>text_projection</c>, no bias).
/// Real SD-1.5/SDXL configs carry the legacy ids bos 0 / eos 2 / pad 1; see <see cref="ClipPooling"/>.
/// </summary>
public sealed record ClipTextConfig(
    int VocabSize, int HiddenSize, int IntermediateSize, int NumHiddenLayers, int NumAttentionHeads,
    int MaxPositionEmbeddings, ClipActivation HiddenAct, double LayerNormEps, int ProjectionDim,
    int BosTokenId, int EosTokenId, int PadTokenId, bool WithProjection)
{
    private const string WithProjectionClass = "CLIPTextModelWithProjection";

    /// <summary>
    /// Reads a text encoder's <c>config.json</c>. <paramref name="withProjection"/> overrides the
    /// <c>architectures</c> entry (a pipeline's <c>model_index.json</c> names the class too).
    /// </summary>
    public static ClipTextConfig Load(string path, bool? withProjection = null)
    {
        var root = ClipConfigFile.Read(path);
        var config = new ConfigReader(root, path);
        var modelType = config.String("model_type");
        if (modelType == "clip")
            throw config.Unsupported("model_type", modelType, "this is a whole CLIPModel (text and vision); load it as a CLIP model folder");
        if (modelType is not (null or "clip_text_model"))
            throw config.Unsupported("model_type", modelType, "only CLIP text encoders (clip_text_model) are implemented");
        bool projection = withProjection ?? config.StringList("architectures", required: false).Contains(WithProjectionClass);
        return Read(config, projection);
    }

    /// <summary>The text part of a config: a text encoder's whole file, or a CLIPModel's <c>text_config</c>.</summary>
    internal static ClipTextConfig Read(ConfigReader config, bool withProjection)
    {
        int hidden = ClipConfigFile.Positive(config, "hidden_size", 512);
        int heads = ClipConfigFile.Positive(config, "num_attention_heads", 8);
        if (hidden % heads != 0)
            throw config.Unsupported("num_attention_heads", heads.ToString(), $"must divide hidden_size {hidden}");
        var act = config.String("hidden_act") ?? "quick_gelu";
        return new ClipTextConfig(
            VocabSize: ClipConfigFile.Positive(config, "vocab_size", 49408),
            HiddenSize: hidden,
            IntermediateSize: ClipConfigFile.Positive(config, "intermediate_size", 2048),
            NumHiddenLayers: ClipConfigFile.Positive(config, "num_hidden_layers", 12),
            NumAttentionHeads: heads,
            MaxPositionEmbeddings: ClipConfigFile.Positive(config, "max_position_embeddings", 77),
            HiddenAct: ClipActivations.Parse(act) ?? throw config.Unsupported("hidden_act", act, "only quick_gelu and gelu are implemented"),
            LayerNormEps: config.Double("layer_norm_eps") ?? 1e-5,
            ProjectionDim: ClipConfigFile.Positive(config, "projection_dim", 512),
            BosTokenId: config.Int("bos_token_id") ?? 49406,
            EosTokenId: config.Int("eos_token_id") ?? 49407,
            PadTokenId: config.Int("pad_token_id") ?? 1,
            WithProjection: withProjection);
    }

    /// <summary>Exact parameter count of the model this config builds (projection included when present); allocates nothing.</summary>
    public long ParamCount =>
        (long)VocabSize * HiddenSize + (long)MaxPositionEmbeddings * HiddenSize
        + NumHiddenLayers * ClipParamCounts.EncoderLayer(HiddenSize, IntermediateSize)
        + ClipParamCounts.LayerNorm(HiddenSize)
        + (WithProjection ? (long)HiddenSize * ProjectionDim : 0);
}
