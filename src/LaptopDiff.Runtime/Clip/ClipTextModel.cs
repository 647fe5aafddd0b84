using LaptopDiff.Runtime.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPTextModel</c>, or <c>CLIPTextModelWithProjection</c> when the config says so: the
/// <c>text_model</c> tower plus, for the latter, a bias-free <c>text_projection</c> of the pooled output
/// (SDXL's <c>text_embeds</c>). Keys are transformers' state-dict names.
/// </summary>
public sealed class ClipTextModel : nn.Module<Tensor, ClipTextOutput>
{
    public const string WeightsFile = "model.safetensors";

    private readonly ClipTextTransformer text_model;
    private readonly Linear? text_projection;

    public ClipTextModel(ClipTextConfig config) : base(nameof(ClipTextModel))
    {
        text_model = new ClipTextTransformer(config);
        if (config.WithProjection) text_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false);
        RegisterComponents();
    }

    public ClipTextConfig Config => text_model.Config;

    /// <summary>A text encoder folder: <c>config.json</c> and <c>model.safetensors</c>.</summary>
    public static ClipTextModel Load(string folder, bool? withProjection = null) =>
        Load(Path.Combine(folder, "config.json"), Path.Combine(folder, WeightsFile), withProjection);

    /// <summary>From a config and a weights file (e.g. a variant the pipeline reader chose), in eval mode.</summary>
    public static ClipTextModel Load(string configPath, string weightsPath, bool? withProjection = null) =>
        Load(configPath, SafetensorsSet.Single(weightsPath), withProjection);

    /// <summary>From a config and resolved weights: one file or shards (a pipeline component's <see cref="ComponentWeights.Require"/>).</summary>
    public static ClipTextModel Load(string configPath, SafetensorsSet weights, bool? withProjection = null)
    {
        var model = new ClipTextModel(ClipTextConfig.Load(configPath, withProjection));
        try
        {
            ClipWeights.Load(model, weights);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    /// <summary>ids [B,N] int64 -> hidden states, pooled output and (with projection) text embeds.</summary>
    public override ClipTextOutput forward(Tensor inputIds)
    {
        var output = text_model.forward(inputIds);
        if (text_projection is null) return output;
        return output with { TextEmbeds = text_projection.forward(output.PooledOutput) };
    }

    /// <summary>The tower's <c>final_layer_norm</c> applied to a hidden state (see <see cref="ClipSkip"/>).</summary>
    public Tensor FinalLayerNorm(Tensor hidden) => text_model.FinalLayerNorm(hidden);
}
