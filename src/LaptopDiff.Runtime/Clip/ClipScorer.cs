using LaptopDiff.Runtime.Backends;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>Which score <see cref="ClipScorer.Score"/> gives: CLIP score <c>100 * max(cos, 0)</c>, or PickScore's <c>exp(logit_scale) * cos</c>.</summary>
public enum ClipMetric { Clip, Pick }

/// <summary>
/// Scores images against prompts with a CLIP model: CLIP score <c>100 * max(cos, 0)</c> (torchmetrics'
/// definition) and PickScore <c>exp(logit_scale) * cos</c> (PickScore's own formula, with its CLIPModel
/// weights), where cos is the cosine of image i's and prompt i's projected embeddings.
/// </summary>
public sealed class ClipScorer : IDisposable
{
    private ClipScorer(ClipModel model, ClipTokenizer tokenizer, ClipImagePreprocessor preprocessor)
    {
        Model = model;
        Tokenizer = tokenizer;
        Preprocessor = preprocessor;
    }

    public ClipModel Model { get; }
    public ClipTokenizer Tokenizer { get; }
    public ClipImagePreprocessor Preprocessor { get; }

    /// <summary>
    /// A CLIPModel folder (<c>config.json</c>, <c>model.safetensors</c>) and the folder of its processor
    /// (tokenizer files and <c>preprocessor_config.json</c>; the model folder itself unless given, as PickScore
    /// keeps its processor in a separate CLIP folder). The model is moved to <paramref name="device"/> (default the CPU); images and
    /// tokens are prepared on the CPU and moved there, and scores are read back on the CPU.
    /// </summary>
    public static ClipScorer Load(string modelFolder, string? processorFolder = null, Device? device = null)
    {
        processorFolder ??= modelFolder;
        var model = ClipModel.Load(modelFolder);
        try
        {
            ModuleDevice.MoveTo(model, device ?? CPU);
            return new ClipScorer(model, ClipTokenizer.Load(processorFolder), ClipImagePreprocessor.Load(processorFolder));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Images [N,3,H,W] float in [0, 1] -> projected image embeddings [N,P], not normalised.</summary>
    public Tensor ImageEmbeddings(Tensor images01)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pixels = Preprocessor.Preprocess(images01).to(Device);
        return Model.ImageEmbeds(pixels).MoveToOuterDisposeScope();
    }

    /// <summary>Prompts -> projected text embeddings [N,P], not normalised.</summary>
    public Tensor TextEmbeddings(IReadOnlyList<string> prompts)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return Model.TextEmbeds(Tokenizer.EncodeBatch(prompts).to(Device)).MoveToOuterDisposeScope();
    }

    /// <summary>CLIP score of image i against prompt i: <c>100 * max(cos, 0)</c>.</summary>
    public double[] ClipScores(Tensor images01, IReadOnlyList<string> prompts) =>
        PairCosines(images01, prompts).Select(cos => 100 * Math.Max(cos, 0)).ToArray();

    /// <summary>PickScore of image i against prompt i: <c>exp(logit_scale) * cos</c> (before PickScore's softmax over images).</summary>
    public double[] PickScores(Tensor images01, IReadOnlyList<string> prompts)
    {
        double scale = Model.LogitScale;
        return PairCosines(images01, prompts).Select(cos => scale * cos).ToArray();
    }

    /// <summary>
    /// The <paramref name="metric"/> of image i against prompt i, for images of any sizes ([1,3,H,W] each, in [0,1]);
    /// one prompt scores every image against itself.
    /// </summary>
    public double[] Score(IReadOnlyList<Tensor> images01, IReadOnlyList<string> prompts, ClipMetric metric)
    {
        if (prompts.Count != images01.Count && prompts.Count != 1)
            throw new Inputs.InputException($"{images01.Count} images but {prompts.Count} prompts: give one prompt per image (paired by position) or one prompt for all.");
        using var scope = NewDisposeScope();
        var imageEmbeds = cat(images01.Select(ImageEmbeddings).ToArray(), 0);                              // [N,P]
        var texts = prompts.Count == 1 ? Enumerable.Repeat(prompts[0], images01.Count).ToList() : prompts;
        var cosines = Cosines(imageEmbeds, TextEmbeddings(texts));
        double scale = Model.LogitScale;
        return cosines.Select(cos => metric == ClipMetric.Clip ? 100 * Math.Max(cos, 0) : scale * cos).ToArray();
    }

    /// <summary>Cosine similarity of row i of <paramref name="imageEmbeds"/> with row i of <paramref name="textEmbeds"/>, in float64.</summary>
    public static double[] Cosines(Tensor imageEmbeds, Tensor textEmbeds)
    {
        if (imageEmbeds.dim() != 2 || !imageEmbeds.shape.SequenceEqual(textEmbeds.shape))
            throw new ArgumentException($"image embeds [{string.Join(",", imageEmbeds.shape)}] and text embeds [{string.Join(",", textEmbeds.shape)}] must both be [N, P]");
        using var scope = NewDisposeScope();
        var image = imageEmbeds.to_type(ScalarType.Float64).cpu();
        var text = textEmbeds.to_type(ScalarType.Float64).cpu();
        var cos = (image * text).sum(1) / (image.norm(1) * text.norm(1));
        return cos.data<double>().ToArray();
    }

    public void Dispose() => Model.Dispose();

    private Device Device => ModuleDevice.Of(Model);

    private double[] PairCosines(Tensor images01, IReadOnlyList<string> prompts)
    {
        if (images01.shape[0] != prompts.Count)
            throw new Inputs.InputException($"{images01.shape[0]} images but {prompts.Count} prompts: each image is scored against its own prompt.");
        using var scope = NewDisposeScope();
        return Cosines(ImageEmbeddings(images01), TextEmbeddings(prompts));
    }
}
