using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>What <c>laptop-diff train</c> runs: a U-Net (and conditioner) from scratch or from initial weights.</summary>
public sealed record TrainRequest
{
    public required UNetLayout Layout { get; init; }
    /// <summary>A calibration-format set (Calibration/README.md): latents with encoder states, or with labels and a conditioner.</summary>
    public required string DataPath { get; init; }
    public ConditionerSource? Conditioner { get; init; }
    /// <summary>Optional starting U-Net weights (strict keys); default: torch's initialisation seeded by the run's seed.</summary>
    public string? InitWeights { get; init; }
    public required TrainingOptions Options { get; init; }
    public required string OutputDir { get; init; }
    public bool Resume { get; init; }
    /// <summary>Where the U-Net, the conditioner and every tensor of a step live (data is read on the CPU and moved).</summary>
    public Device Device { get; init; } = torch.CPU;
}

/// <summary>
/// Teacher training (task loss only; a class conditioner is trained jointly). Writes OUTPUT/checkpoints/,
/// OUTPUT/log.jsonl and, at the end, OUTPUT/unet.safetensors (+ unet.conditioner.safetensors; with EMA
/// also unet-ema.safetensors and unet-ema.conditioner.safetensors), OUTPUT/train.json and the loss curve OUTPUT/loss.png.
/// </summary>
public static class TeacherTraining
{
    public const string WeightsFile = "unet.safetensors";
    public const string EmaWeightsFile = "unet-ema.safetensors";

    /// <summary>The conditioner file beside a U-Net weights file: <c>X.safetensors</c> -> <c>X.conditioner.safetensors</c>.</summary>
    public static string ConditionerPathFor(string weightsPath) =>
        Path.Combine(Path.GetDirectoryName(weightsPath) ?? "", Path.GetFileNameWithoutExtension(weightsPath) + ".conditioner.safetensors");

    public static TrainingOutcome Run(TrainRequest request, CancellationToken cancel, Action<TrainingProgress>? onStep = null, Action<string>? log = null)
    {
        var options = request.Options.Validate();
        var layout = request.Layout;
        using var conditioner = request.Conditioner?.Create(layout.Spec.CrossAttentionDim);
        using var set = CalibrationSet.Load(request.DataPath, layout, conditioner);
        if (set.Labels is null && conditioner != null)
            throw new InputException($"training data '{request.DataPath}' holds encoder_hidden_states; a class conditioner is only for sets of class labels",
                nameof(request.Conditioner));
        using var unet = new UNet2DCondition(layout);
        // the initial weights are part of the seeded run
        if (request.InitWeights != null) WeightLoader.Load(unet, request.InitWeights, strict: true);
        else SeededInitialization.Apply(unet, options.Seed);
        if (conditioner != null && request.Conditioner!.File == null) SeededInitialization.Apply(conditioner, options.Seed + 1);
        unet.MoveTo(request.Device);
        if (conditioner != null) ModuleDevice.MoveTo(conditioner, request.Device);

        var identity = new RunIdentity(options.IdentityFields().Concat(new Dictionary<string, string>
        {
            ["kind"] = "train",
            ["spec"] = $"{layout.Spec.Name} {StructureHash(layout.Spec)}",
            ["data"] = set.Hash,
            ["conditioner"] = request.Conditioner?.IdentityText ?? "(none)",
            ["init"] = request.InitWeights != null ? FileDigest.Sha256(request.InitWeights) : "(seeded)",
        }));
        var objective = new DenoisingObjective(unet, conditioner);
        var data = new TrainingData(set, options, conditioner?.NullLabel ?? -1);
        var trainer = new Trainer<TrainingBatch>(objective, data, options, identity, request.OutputDir);
        log?.Invoke($"{layout.Spec.Name}: {layout.TotalParamCount:N0} parameters{(conditioner != null ? $" + conditioner {conditioner.ClassCount} classes x {conditioner.TokenCount} tokens" : "")}; " +
                    $"{set.Count} samples from {request.DataPath}; {options.Steps} steps of {options.BatchSize}x{options.GradientAccumulation}; noise {options.Schedule}");
        return trainer.Run(request.Resume, cancel, onStep, log, ema =>
        {
            var outcomeDir = request.OutputDir;
            WeightLoader.Save(unet, Path.Combine(outcomeDir, WeightsFile), Provenance(layout, identity));
            conditioner?.Save(ConditionerPathFor(Path.Combine(outcomeDir, WeightsFile)));
            if (ema != null) SaveEma(ema, unet, conditioner, Path.Combine(outcomeDir, EmaWeightsFile), Provenance(layout, identity));
            WriteSummary(request, layout, identity);
            var logPath = Path.Combine(outcomeDir, TrainingLog.FileName);
            AtomicFile.Write(Path.Combine(outcomeDir, LossCurvePlot.FileName),
                s => s.Write(LossCurvePlot.RenderPng(TrainingLog.Read(logPath), [DenoisingObjective.TaskTerm])));
        });
    }

    /// <summary>The spec's structure with its removals (a pruned spec differs from its base), hashed.</summary>
    public static string StructureHash(UNetSpec spec) =>
        SpecHash.OfText(SpecWriter.Write(spec with { Name = "", Description = null, Provenance = null, Base = null }));

    /// <summary>Writes the EMA parameters in the place of the live ones: a U-Net file and, with a conditioner, its file.</summary>
    internal static void SaveEma(WeightEma ema, UNet2DCondition unet, ClassConditioner? conditioner, string path, IReadOnlyDictionary<string, string> metadata)
    {
        var averaged = ema.State().ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
        IEnumerable<KeyValuePair<string, Tensor>> Swap(nn.Module m, string prefix) => m.state_dict()
            .Select(s => KeyValuePair.Create(s.Key, averaged.TryGetValue($"{prefix}.{s.Key}", out var a) ? a : s.Value.detach()));
        SafetensorsFile.Save(path, Swap(unet, "unet"), metadata);
        if (conditioner != null)
            SafetensorsFile.Save(ConditionerPathFor(path), Swap(conditioner, "conditioner"), conditioner.Metadata());
    }

    internal static IReadOnlyDictionary<string, string> Provenance(UNetLayout layout, RunIdentity identity) => new Dictionary<string, string>
    {
        ["spec"] = layout.Spec.Name,
        ["run"] = identity.ToJson(),
        ["tool"] = "laptop-diff",
    };

    private static void WriteSummary(TrainRequest request, UNetLayout layout, RunIdentity identity)
    {
        var summary = new Dictionary<string, object>
        {
            ["spec"] = layout.Spec.Name,
            ["data"] = Path.GetFullPath(request.DataPath),
            ["schedule"] = new Dictionary<string, object>
            {
                ["beta_schedule"] = request.Options.Schedule.KindName,
                ["beta_start"] = request.Options.Schedule.BetaStart,
                ["beta_end"] = request.Options.Schedule.BetaEnd,
                ["num_train_timesteps"] = request.Options.Schedule.TrainSteps,
            },
            ["identity"] = identity.Fields,
        };
        var json = JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.WriteText(Path.Combine(request.OutputDir, "train.json"), json + "\n");
    }
}
