using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// A training checkpoint: one safetensors file <c>checkpoints/step-NNNNNNNN.safetensors</c> holding the
/// trained modules' state dicts (<c>PREFIX.key</c>), the AdamW moments (<c>optim.exp_avg.NAME</c>,
/// <c>optim.exp_avg_sq.NAME</c>), the EMA weights (<c>ema.NAME</c>), and in its metadata the format, the
/// completed step, Adam's step counter, the next sample position and the run identity. Data order, noise
/// and dropout are functions of the step (<see cref="TrainingData"/>), so these restore a run exactly.
/// Written atomically; the last K are kept.
/// </summary>
public static class TrainingCheckpoint
{
    public const string Format = "laptopdiff.checkpoint/1";
    public const string Folder = "checkpoints";

    public static string PathFor(string outputDir, int step) =>
        Path.Combine(outputDir, Folder, $"step-{step.ToString("D8", CultureInfo.InvariantCulture)}.safetensors");

    /// <summary>Existing checkpoints of a run folder, oldest first (by step).</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string outputDir)
    {
        var dir = Path.Combine(outputDir, Folder);
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "step-*.safetensors")
            .Select(p => (Ok: int.TryParse(Path.GetFileNameWithoutExtension(p).AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int s), Step: s, Path: p))
            .Where(c => c.Ok)
            .OrderBy(c => c.Step)
            .Select(c => (c.Step, c.Path))
            .ToList();
    }

    public static void Save(string outputDir, int step, RunIdentity identity, long samplePosition, double elapsedSeconds,
        ITrainedModules objective, AdamW optimizer, WeightEma? ema, int keep)
    {
        Directory.CreateDirectory(Path.Combine(outputDir, Folder));
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (prefix, module) in objective.Trained)
            foreach (var (key, t) in module.state_dict())
                tensors.Add(KeyValuePair.Create($"{prefix}.{key}", t.detach()));
        tensors.AddRange(optimizer.State().Select(s => KeyValuePair.Create("optim." + s.Key, s.Value)));
        if (ema != null) tensors.AddRange(ema.State().Select(s => KeyValuePair.Create("ema." + s.Key, s.Value)));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["optimizer_step"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            ["sample_position"] = samplePosition.ToString(CultureInfo.InvariantCulture),
            ["elapsed_s"] = elapsedSeconds.ToString("R", CultureInfo.InvariantCulture),
            ["identity"] = identity.ToJson(),
        };
        SafetensorsFile.Save(PathFor(outputDir, step), tensors, metadata);
        foreach (var (_, old) in List(outputDir).SkipLast(keep)) File.Delete(old);
    }

    /// <summary>
    /// Restores the newest checkpoint into the objective's modules, the optimizer and the EMA; returns its
    /// step and elapsed time. A checkpoint of another run (identity differs) is an <see cref="InputException"/>.
    /// </summary>
    public static (int Step, double ElapsedSeconds, string Path) Restore(string outputDir, RunIdentity identity,
        ITrainedModules objective, AdamW optimizer, WeightEma? ema)
    {
        var all = List(outputDir);
        if (all.Count == 0) throw new InputException($"nothing to resume: no checkpoint in '{Path.Combine(outputDir, Folder)}'", nameof(TrainRequest.Resume));
        var (step, path) = all[^1];
        var header = SafetensorsFile.ReadHeader(path);
        var meta = header.Metadata;
        if (meta.GetValueOrDefault("format") != Format || !meta.TryGetValue("identity", out var identityJson))
            throw new InputException($"'{path}' is not a LaptopDiff training checkpoint (format '{meta.GetValueOrDefault("format") ?? "(none)"}')");
        RunIdentity saved;
        try { saved = RunIdentity.FromJson(identityJson); }
        catch (JsonException e) { throw new InputException($"checkpoint '{path}': unreadable run identity ({e.Message})"); }
        if (identity.Difference(saved) is { } diff)
            throw new InputException($"checkpoint '{path}' is from another run: {diff}. Use another output folder, or the original run's inputs and options.",
                nameof(TrainRequest.OutputDir));

        using var scope = NewDisposeScope();
        var tensors = SafetensorsFile.Load(path);
        Tensor Get(string key) => tensors.TryGetValue(key, out var t)
            ? t
            : throw new WeightsException($"checkpoint '{path}' lacks tensor '{key}'; it is truncated or from another version");
        using (no_grad())
        {
            foreach (var (prefix, module) in objective.Trained)
                foreach (var (key, target) in module.state_dict())
                {
                    var source = Get($"{prefix}.{key}");
                    if (!source.shape.SequenceEqual(target.shape))
                        throw new WeightsException($"checkpoint '{path}': '{prefix}.{key}' is {Shapes.Format(source.shape)}, the model has {Shapes.Format(target.shape)}");
                    target.copy_(source);
                }
        }
        optimizer.Load(k => Get("optim." + k), long.Parse(meta.GetValueOrDefault("optimizer_step") ?? "0", CultureInfo.InvariantCulture));
        ema?.Load(k => Get("ema." + k));
        foreach (var t in tensors.Values) t.Dispose();
        double elapsed = double.TryParse(meta.GetValueOrDefault("elapsed_s"), NumberStyles.Float, CultureInfo.InvariantCulture, out var e2) ? e2 : 0;
        return (step, elapsed, path);
    }
}
