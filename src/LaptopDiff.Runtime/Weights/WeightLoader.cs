using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Weights;

/// <summary>Moves a module's state dict (diffusers key names) to and from <c>.safetensors</c> files.</summary>
public static class WeightLoader
{
    /// <summary>
    /// Loads the file into the module's parameters and buffers by state-dict key, converting floating
    /// dtypes (an fp16/bf16/f64 file fills an fp32 module). Strict: any missing, unexpected or mis-shaped
    /// key throws before the module is touched. Non-strict: copies the matching keys and reports the rest.
    /// </summary>
    public static WeightReport Load(nn.Module module, string path, bool strict = true) =>
        Load(module, SafetensorsSet.Single(path), strict);

    /// <summary>
    /// <see cref="Load(nn.Module, string, bool)"/> from a component folder's resolved weights; a folder without
    /// weights is a <see cref="WeightsException"/>.
    /// </summary>
    public static WeightReport Load(nn.Module module, ComponentWeights weights, bool strict = true) =>
        Load(module, weights.Require(), strict);

    /// <summary>
    /// <see cref="Load(nn.Module, string, bool)"/> from one file or a set of shards, the key checks over their union.
    /// Tensors are read one at a time, shard after shard; a converted dtype passes through a bounded buffer, so
    /// loading needs little memory beyond the module itself.
    /// </summary>
    public static WeightReport Load(nn.Module module, SafetensorsSet weights, bool strict = true)
    {
        var targets = module.state_dict();
        var report = WeightReport.Compare(targets.Select(t => new TensorKey(t.Key, t.Value.shape.ToEquatableArray())), weights);
        if (strict) report.ThrowIfMismatched();

        var pairs = targets
            .Select(t => (Entry: weights.Find(t.Key), Target: t.Value))
            .Where(p => p.Entry is not null && p.Entry.Shape.SequenceEqual(p.Target.shape))
            .Select(p => (Entry: p.Entry!, p.Target))
            .ToList();
        foreach (var (entry, target) in pairs) CheckConvertible(weights.FileOf(entry.Name).Path, entry, target);

        using var _ = no_grad();
        foreach (var file in pairs.GroupBy(p => weights.FileOf(p.Entry.Name)))
        {
            using var reader = new SafetensorsDataReader(file.Key);
            foreach (var (entry, target) in file) reader.CopyInto(entry, target);
        }
        return report;
    }

    /// <summary>
    /// Fills <paramref name="target"/> from the same-named tensors of a loaded <paramref name="source"/> (a pruned
    /// student from its teacher: the surviving keys), without reading any file. Every target key must exist in the
    /// source with the same shape, else nothing is copied.
    /// </summary>
    public static void CopyFrom(nn.Module target, nn.Module source, string what)
    {
        var sources = source.state_dict();
        var targets = target.state_dict();
        var unmatched = targets.Where(t => !sources.TryGetValue(t.Key, out var s) || !s.shape.SequenceEqual(t.Value.shape)).Select(t => t.Key).ToList();
        if (unmatched.Count > 0)
            throw new WeightsException($"{what}: no same-shaped tensor for {string.Join(", ", unmatched.Take(3))}" + (unmatched.Count > 3 ? $" and {unmatched.Count - 3} more" : ""));
        using var _ = no_grad();
        foreach (var (key, tensor) in targets) tensor.copy_(sources[key]);
    }

    /// <summary>Writes the module's state dict atomically, floating-point tensors as F32.</summary>
    public static void Save(nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = NewDisposeScope();
        var tensors = module.state_dict()
            .Select(t => KeyValuePair.Create(t.Key, (is_floating_point(t.Value) ? t.Value.detach().to_type(ScalarType.Float32) : t.Value.detach()).cpu()))   // files do not depend on the device
            .ToList();
        SafetensorsFile.Save(path, tensors, metadata);
    }

    /// <summary>
    /// Compares the keys a model will need (e.g. <see cref="UNetLayout.LiveKeys"/>) with a file's header,
    /// so a command can reject a wrong checkpoint before building a large model.
    /// </summary>
    public static WeightReport CheckAgainstKeys(IEnumerable<TensorKey> expected, SafetensorsHeader header) =>
        WeightReport.Compare(expected, header);

    // Float-to-float conversion is what checkpoints expect; anything else (e.g. F32 into an I64 buffer) would silently change values.
    private static void CheckConvertible(string path, SafetensorsEntry entry, Tensor target)
    {
        if (entry.DType == target.dtype || (is_floating_point(entry.DType) && is_floating_point(target.dtype))) return;
        throw new WeightsException(
            $"weights file '{path}': tensor '{entry.Name}' is {SafetensorsDType.NameOf(entry.DType)} but the model holds " +
            $"{target.dtype}; converting would change its values. Export the weights with the model's dtypes.");
    }
}
