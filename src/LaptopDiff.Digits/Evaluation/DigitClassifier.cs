using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Weights;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Digits.Evaluation;

/// <summary>
/// The evaluation's digit classifier (the analogue of CLIP for class alignment, and of Inception for the Frechet
/// distance): three 3x3 conv + ReLU + 2x2 max-pool stages (16, 32, 64 channels: 32 -> 16 -> 8 -> 4), a 64-wide
/// ReLU layer (the <see cref="Features"/>) and a linear layer to 10 logits. Input: digits as the digits model
/// sees them, float32 [N,1,32,32] in [-1,1]. Saved as safetensors with metadata <c>format</c>=<see cref="Format"/>.
/// </summary>
public sealed class DigitClassifier : nn.Module<Tensor, Tensor>
{
    public const string Format = "laptopdiff.digit-classifier/1";
    public const int FeatureDim = 64;
    public const int ClassCount = 10;

    private readonly Conv2d conv1 = nn.Conv2d(1, 16, 3, padding: 1);
    private readonly Conv2d conv2 = nn.Conv2d(16, 32, 3, padding: 1);
    private readonly Conv2d conv3 = nn.Conv2d(32, 64, 3, padding: 1);
    private readonly Linear fc = nn.Linear(64 * 4 * 4, FeatureDim);
    private readonly Linear head = nn.Linear(FeatureDim, ClassCount);

    public DigitClassifier() : base(nameof(DigitClassifier)) => RegisterComponents();

    /// <summary>Penultimate features [N, 64] (after ReLU): what the Frechet distance compares.</summary>
    public Tensor Features(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != 1 || x.shape[2] != 32 || x.shape[3] != 32)
            throw new ArgumentException($"the digit classifier takes [N,1,32,32], got {Shapes.Format(x.shape)}", nameof(x));
        using var scope = NewDisposeScope();
        var h = nn.functional.max_pool2d(nn.functional.relu(Ops.Conv2d(conv1, x)), 2);
        h = nn.functional.max_pool2d(nn.functional.relu(Ops.Conv2d(conv2, h)), 2);
        h = nn.functional.max_pool2d(nn.functional.relu(Ops.Conv2d(conv3, h)), 2);
        return nn.functional.relu(fc.forward(h.flatten(1))).MoveToOuterDisposeScope();
    }

    /// <summary>Class logits [N, 10].</summary>
    public override Tensor forward(Tensor x)
    {
        using var features = Features(x);
        return head.forward(features);
    }

    /// <summary>Logits of precomputed <see cref="Features"/>.</summary>
    public Tensor Logits(Tensor features) => head.forward(features);

    /// <summary>Writes the classifier atomically, with its held-out accuracy and provenance in the metadata.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string> provenance)
    {
        var metadata = new Dictionary<string, string>(provenance) { ["format"] = Format };
        WeightLoader.Save(this, path, metadata);
    }

    /// <summary>Loads a classifier file (strict keys); a file that is not one is a <see cref="WeightsException"/>.</summary>
    public static DigitClassifier Load(string path)
    {
        SafetensorsFile.ReadHeaderOfFormat(path, Format, "a digit classifier", "; train one with laptop-diff train-classifier");
        var classifier = new DigitClassifier();
        try
        {
            WeightLoader.Load(classifier, path, strict: true);
            classifier.eval();
            return classifier;
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }
}
