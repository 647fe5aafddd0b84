using System.Globalization;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Conditioning;

/// <summary>
/// The stand-in for a text encoder on class-labelled data: a learned embedding of each class (and of
/// the null label <see cref="NullLabel"/> = classCount, the unconditional input of classifier-free
/// guidance) as <c>tokenCount</c> tokens of width <c>dim</c>, fed to the U-Net's cross-attention.
/// Saved as its own safetensors file: key <c>class_tokens.weight</c> [classCount+1, tokenCount*dim],
/// metadata <c>format</c>=<c>laptopdiff.conditioner/1</c>, <c>classes</c>, <c>tokens</c>, <c>dim</c>.
/// </summary>
public sealed class ClassConditioner : nn.Module<Tensor, Tensor>
{
    public const string Format = "laptopdiff.conditioner/1";
    public const string WeightKey = "class_tokens.weight";

    private readonly Embedding class_tokens;

    public ClassConditioner(int classCount, int tokenCount, int dim) : base(nameof(ClassConditioner))
    {
        if (classCount < 1 || tokenCount < 1 || dim < 1)
            throw new ArgumentException($"a class conditioner needs at least one class, token and channel, got {classCount} classes, {tokenCount} tokens, dim {dim}");
        ClassCount = classCount;
        TokenCount = tokenCount;
        Dim = dim;
        class_tokens = nn.Embedding(classCount + 1, (long)tokenCount * dim);   // N(0,1) init: unit-scale states like a text encoder's
        RegisterComponents();
    }

    public int ClassCount { get; }
    public int TokenCount { get; }
    public int Dim { get; }

    /// <summary>The unconditional label (classifier-free guidance): one past the last class.</summary>
    public long NullLabel => ClassCount;

    /// <summary>Where the class tokens lie.</summary>
    public Device Device => class_tokens.weight!.device;

    /// <summary>int64 labels [B] in [0, classCount] (classCount = null), on any device -> encoder_hidden_states [B, tokens, dim] on <see cref="Device"/>.</summary>
    public override Tensor forward(Tensor labels)
    {
        if (labels.dim() != 1) throw new ArgumentException($"labels must be [B], got {Shapes.Format(labels.shape)}", nameof(labels));
        using var scope = NewDisposeScope();
        return class_tokens.forward(labels.to(Device).to_type(ScalarType.Int64)).reshape(labels.shape[0], TokenCount, Dim).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the conditioner atomically (float32).</summary>
    public void Save(string path) => WeightLoader.Save(this, path, Metadata());

    public IReadOnlyDictionary<string, string> Metadata() => new Dictionary<string, string>
    {
        ["format"] = Format,
        ["classes"] = ClassCount.ToString(CultureInfo.InvariantCulture),
        ["tokens"] = TokenCount.ToString(CultureInfo.InvariantCulture),
        ["dim"] = Dim.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Loads a conditioner file; a file that is not one is a <see cref="WeightsException"/> naming what is wrong.</summary>
    public static ClassConditioner Load(string path)
    {
        var header = SafetensorsFile.ReadHeaderOfFormat(path, Format, "a class conditioner");
        int classes = Int(header, path, "classes"), tokens = Int(header, path, "tokens"), dim = Int(header, path, "dim");
        var conditioner = new ClassConditioner(classes, tokens, dim);
        try
        {
            WeightLoader.Load(conditioner, path, strict: true);
            return conditioner;
        }
        catch
        {
            conditioner.Dispose();
            throw;
        }
    }

    /// <summary>Labels must be in [0, classCount]: an out-of-range label is the data's error, not an index crash.</summary>
    public void CheckLabels(Tensor labels, string source)
    {
        if (labels.numel() == 0) return;
        long min = labels.min().item<long>(), max = labels.max().item<long>();
        if (min < 0 || max > ClassCount)
            throw new InputException($"{source}: labels range over [{min}, {max}] but the conditioner has {ClassCount} classes (labels 0..{ClassCount - 1}, {ClassCount} = null)");
    }

    private static int Int(SafetensorsHeader header, string path, string key) =>
        header.Metadata.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new WeightsException($"class conditioner '{path}': metadata '{key}' is missing or not a positive integer");
}
