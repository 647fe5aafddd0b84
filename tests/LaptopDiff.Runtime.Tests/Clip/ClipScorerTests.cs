using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Inputs;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Clip;

/// <summary>The CLIP scorer against transformers' CLIPModel outputs in tiny-clip.io.safetensors.</summary>
public sealed class ClipScorerTests(ITestOutputHelper log) : IDisposable
{
    private static readonly string ModelFolder = ClipFixtures.Folder("tiny-clip");
    private readonly Dictionary<string, Tensor> _reference = ClipFixtures.Tensors("tiny-clip.io.safetensors");
    private readonly IReadOnlyList<string> _prompts = ClipFixtures.Prompts("tiny-clip.io.json");

    public void Dispose()
    {
        foreach (var t in _reference.Values) t.Dispose();
    }

    [Fact]
    public void Preprocessing_resizes_crops_and_normalises_like_the_reference()
    {
        var preprocessor = ClipImagePreprocessor.Load(ModelFolder);
        Assert.Equal(32, preprocessor.ShortestEdge);
        using var pixels = preprocessor.Preprocess(_reference["images"]);      // [3,3,48,40] -> 38x32 -> crop 32x32
        double error = ClipFixtures.MaxAbs(pixels, _reference["pixel_values"]);
        log.WriteLine($"pixel_values: max abs {error:E2}");
        Assert.True(error <= 1e-4, $"pixel_values max abs {error:E2}");
    }

    [Fact]
    public void Embeddings_and_scores_match_the_reference()
    {
        using var scope = NewDisposeScope();
        using var scorer = ClipScorer.Load(ModelFolder);
        Check("image_embeds (from pixel_values)", scorer.Model.ImageEmbeds(_reference["pixel_values"]).detach(), _reference["image_embeds"]);
        Check("image_embeds (from images)", scorer.ImageEmbeddings(_reference["images"]), _reference["image_embeds"]);
        Check("text_embeds", scorer.TextEmbeddings(_prompts), _reference["text_embeds"]);

        var scores = scorer.ClipScores(_reference["images"], _prompts.Take(3).ToList());
        var expected = _reference["clip_score"].data<float>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            log.WriteLine($"clip_score[{i}]: {scores[i]:F6} vs {expected[i]:F6}");
            Assert.True(Math.Abs(scores[i] - expected[i]) <= 1e-3, $"clip_score[{i}] {scores[i]} vs {expected[i]}");
        }

        // PickScore = exp(logit_scale) * cos; logit_scale in the file is 4.6052, cos from the reference embeddings.
        Assert.Equal(Math.Exp(4.605199813842773), scorer.Model.LogitScale, 9);
        var picks = scorer.PickScores(_reference["images"], _prompts.Take(3).ToList());
        for (int i = 0; i < 3; i++)
        {
            double cos = Cosine(_reference["image_embeds"][i].data<float>().ToArray(), _reference["text_embeds"][i].data<float>().ToArray());
            Assert.Equal(Math.Exp(4.605199813842773) * cos, picks[i], 3);
        }
    }

    [Fact]
    public void Parameter_count_equals_the_built_model()
    {
        var config = ClipModelConfig.Load(Path.Combine(ModelFolder, "config.json"));
        using var model = new ClipModel(config);
        Assert.Equal(model.parameters().Sum(p => p.numel()), config.ParamCount);
        Assert.Contains("logit_scale", model.state_dict().Keys);
        Assert.Contains("vision_model.pre_layrnorm.weight", model.state_dict().Keys);
    }

    [Fact]
    public void Text_only_folder_is_refused_naming_the_vision_tower()
    {
        var error = Assert.Throws<DiffusersConfigException>(() => ClipScorer.Load(ClipFixtures.Folder("tiny-sd15-pipe/text_encoder"), ModelFolder));
        Assert.Equal("vision_config", error.Option);
        Assert.Contains("text-only", error.Message);
    }

    [Fact]
    public void Bad_images_and_unsupported_resampling_are_input_errors()
    {
        var preprocessor = ClipImagePreprocessor.Load(ModelFolder);
        using var outOfRange = full(1, 3, 40, 40, 255f);
        Assert.Throws<InputException>(() => preprocessor.Preprocess(outOfRange));
        using var gray = zeros(1, 1, 40, 40);
        Assert.Throws<InputException>(() => preprocessor.Preprocess(gray));

        var folder = Directory.CreateTempSubdirectory("clip-preprocessor-");
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, ClipImagePreprocessor.ConfigFile), "{\"size\": {\"shortest_edge\": 32}, \"resample\": 2}");
            Assert.Equal("resample", Assert.Throws<DiffusersConfigException>(() => ClipImagePreprocessor.Load(folder.FullName)).Option);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    private void Check(string name, Tensor actual, Tensor expected)
    {
        double error = ClipFixtures.RelativeL2(actual, expected);
        log.WriteLine($"{name}: relative L2 {error:E2}");
        Assert.True(error <= 1e-5, $"{name}: relative L2 {error:E2} > 1e-5");
    }
}
