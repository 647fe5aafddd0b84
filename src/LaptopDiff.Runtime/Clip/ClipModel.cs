using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPModel</c>: <c>text_model</c> and <c>vision_model</c> towers, bias-free
/// <c>text_projection</c> and <c>visual_projection</c> into one embedding space, and the learned temperature
/// <c>logit_scale</c> (a log). PickScore ships its weights in this class too.
/// </summary>
public sealed class ClipModel : nn.Module
{
    public const string WeightsFile = "model.safetensors";

    private readonly ClipTextTransformer text_model;
    private readonly ClipVisionTransformer vision_model;
    private readonly Linear visual_projection;
    private readonly Linear text_projection;
    private readonly Parameter logit_scale;

    public ClipModel(ClipModelConfig config) : base(nameof(ClipModel))
    {
        Config = config;
        text_model = new ClipTextTransformer(config.Text);
        vision_model = new ClipVisionTransformer(config.Vision);
        visual_projection = nn.Linear(config.Vision.HiddenSize, config.ProjectionDim, hasBias: false);
        text_projection = nn.Linear(config.Text.HiddenSize, config.ProjectionDim, hasBias: false);
        logit_scale = nn.Parameter(tensor(2.6592f));                                // transformers' logit_scale_init_value
        RegisterComponents();
    }

    public ClipModelConfig Config { get; }

    /// <summary><c>exp(logit_scale)</c>: the factor CLIP's logits (and PickScore) put on cosine similarities.</summary>
    public double LogitScale => Math.Exp(logit_scale.item<float>());

    /// <summary>A CLIPModel folder: <c>config.json</c> with text_config and vision_config, and <c>model.safetensors</c>.</summary>
    public static ClipModel Load(string folder) => Load(Path.Combine(folder, "config.json"), Path.Combine(folder, WeightsFile));

    /// <summary>From a config and a weights file, in eval mode.</summary>
    public static ClipModel Load(string configPath, string weightsPath)
    {
        var model = new ClipModel(ClipModelConfig.Load(configPath));
        try
        {
            ClipWeights.Load(model, weightsPath);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    /// <summary>transformers' <c>get_image_features</c>: preprocessed pixels [B,3,S,S] -> image embeds [B,P], not normalised.</summary>
    public Tensor ImageEmbeds(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        return visual_projection.forward(vision_model.forward(pixelValues)).MoveToOuterDisposeScope();
    }

    /// <summary>transformers' <c>get_text_features</c>: ids [B,N] -> text embeds [B,P], not normalised.</summary>
    public Tensor TextEmbeds(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        using var output = text_model.forward(inputIds);
        return text_projection.forward(output.PooledOutput).MoveToOuterDisposeScope();
    }
}
