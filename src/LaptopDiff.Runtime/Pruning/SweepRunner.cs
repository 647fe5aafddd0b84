using System.Globalization;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>What to sweep and where the criterion goes.</summary>
public sealed record SweepRequest
{
    public required UNetLayout Layout { get; init; }
    public required string WeightsPath { get; init; }
    public required string CalibrationPath { get; init; }
    /// <summary>The criterion file; the partial and the record go next to it (<see cref="SweepFiles"/>).</summary>
    public required string OutputPath { get; init; }
    public SweepOptions Options { get; init; } = new();
    /// <summary>What reduces the losses when <see cref="SweepHooks.Reducer"/> does not say: the fused kernels by default (on the CPU;
    /// they read host memory, so on another device the float64 TorchSharp reduction runs there instead).</summary>
    public LossImplementation Kernels { get; init; } = LossImplementation.Auto;
    /// <summary>Where the model and every forward run (CPU by default). The noisy inputs are made on the CPU (the same values on
    /// every device) and moved; the criterion does not depend on the device beyond float rounding.</summary>
    public Device Device { get; init; } = CPU;
    /// <summary>The criterion's <c>created</c> value; the current UTC time when null.</summary>
    public string? Created { get; init; }
}

/// <summary>The result of a finished sweep, and what this run did.</summary>
/// <param name="Reduction">What reduced the losses (<see cref="IAblationLossReducer.Name"/>).</param>
public sealed record SweepOutcome(CriterionFile Criterion, SweepRecord Record, string CriterionPath, string RecordPath,
    int UnitsResumed, long TeacherForwardsThisRun, long AblatedForwardsThisRun, double SecondsThisRun, string Reduction);

/// <summary>
/// A sweep from files to files: checks every input before the model is built (spec, weights keys,
/// calibration shapes, a partial's identity: each problem an input error with nothing written), resumes
/// from <c>CRITERION.json.partial</c> when it matches, saves it after every group of ablations, and at the
/// end writes the criterion and the record and deletes the partial. Losses are reduced by the request's
/// <see cref="SweepRequest.Kernels"/> unless the hooks bring a reducer.
/// </summary>
public static class SweepRunner
{
    public static SweepOutcome Run(SweepRequest request, SweepHooks? hooks = null, Action<string>? log = null)
    {
        hooks ??= new SweepHooks();
        var options = request.Options.Validate();
        var layout = request.Layout;
        if (layout.Removed.Count > 0)
            throw new InputException($"{layout.Spec.Name} is a pruned spec ({layout.Removed.Count} units removed); sweep the full model's spec (its base)");
        if (!layout.PrunableUnits.Any())
            throw new InputException($"{layout.Spec.Name} has no prunable unit; there is nothing to sweep");
        SweepFiles.CheckOutputFolder(request.OutputPath);
        WeightLoader.CheckAgainstKeys(layout.LiveKeys, SafetensorsFile.ReadHeader(request.WeightsPath)).ThrowIfMismatched();

        using var set = CalibrationSet.Load(request.CalibrationPath, layout);
        var identity = new SweepIdentity
        {
            SpecName = layout.Spec.Name,
            SpecHash = SpecHash.Compute(layout.Spec),
            WeightsPath = request.WeightsPath,
            WeightsHash = FileDigest.Sha256(request.WeightsPath),
            CalibrationPath = request.CalibrationPath,
            CalibrationHash = set.Hash,
            Samples = set.Count,
            Noising = options.Noising.For(set),
            Shard = options.Shard,
        };
        if (identity.Noising.StoredTimesteps is not null)
            log?.Invoke($"{request.CalibrationPath} fixes its own noisy latents and timesteps (format 2): the noising seed and schedule are not used");
        var units = layout.PrunableUnits.Select(u => new SweepUnit(u.Id, u.ParamCount)).ToList();
        var partialPath = SweepFiles.PartialPath(request.OutputPath);
        var record = File.Exists(partialPath) ? Resumable(partialPath, identity, units) : new SweepRecord(identity, units);
        int resumed = record.CompleteUnits;
        if (File.Exists(partialPath))
            log?.Invoke($"resuming from {partialPath}: {resumed} of {record.Losses.Count} units complete, " +
                        $"{record.Losses.Values.Sum(l => l.Count(v => v is not null))} of {record.Losses.Count * set.Count} (unit, sample) losses measured");

        using var kernels = hooks.Reducer == null && request.Device.type == DeviceType.CPU ? LossKernels.Select(request.Kernels) : null;
        var reducer = hooks.Reducer ?? (kernels == null ? new TorchLossReducer() : new KernelLossReducer(kernels.Kernels));
        if (kernels != null) log?.Invoke(kernels.ToString());
        else if (hooks.Reducer == null && request.Device.type != DeviceType.CPU)
            log?.Invoke($"the model runs on {request.Device}: losses are reduced there in float64 (the fused kernels read host memory)");

        using var model = new UNet2DCondition(layout);
        WeightLoader.Load(model, request.WeightsPath, strict: true);
        model.MoveTo(request.Device);
        model.eval();

        long teacherBefore = record.TeacherForwards, ablatedBefore = record.AblatedForwards;
        double secondsBefore = record.ElapsedSeconds;
        var userCheckpoint = hooks.Checkpoint;
        AblationSweep.Run(model, set, record, options, hooks with
        {
            Reducer = reducer,
            Checkpoint = r =>
            {
                SweepFiles.WriteText(partialPath, SweepRecordJson.Write(r));
                userCheckpoint?.Invoke(r);
            },
        });

        var criterion = SweepCriterion.Build(record, request.Created ?? DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        var recordPath = SweepFiles.RecordPath(request.OutputPath);
        SweepFiles.WriteText(recordPath, SweepRecordJson.Write(record));
        SweepFiles.WriteText(request.OutputPath, CriterionWriter.Write(criterion));
        File.Delete(partialPath);
        return new SweepOutcome(criterion, record, request.OutputPath, recordPath, resumed,
            record.TeacherForwards - teacherBefore, record.AblatedForwards - ablatedBefore, record.ElapsedSeconds - secondsBefore, reducer.Name);
    }

    /// <summary>The partial file's record when it belongs to this sweep; otherwise a clear refusal.</summary>
    private static SweepRecord Resumable(string partialPath, SweepIdentity identity, IReadOnlyList<SweepUnit> units)
    {
        var partial = SweepFiles.ReadRecord(partialPath);
        var differences = partial.Identity.Differences(identity, compareShard: true).ToList();
        if (!partial.Units.SequenceEqual(units)) differences.Add("the spec's prunable units differ");
        if (differences.Count > 0)
            throw new InputException(
                $"'{partialPath}' holds a partial sweep with other settings, so it cannot be resumed: {string.Join("; ", differences)}. " +
                "Rerun with the settings it was started with, write to another output file, or delete the partial file to start over.",
                nameof(SweepRequest.OutputPath));
        // current paths (files may have moved), the partial's measurements and counters
        return new SweepRecord(identity, units, partial.Losses)
        {
            TeacherForwards = partial.TeacherForwards,
            AblatedForwards = partial.AblatedForwards,
            ElapsedSeconds = partial.ElapsedSeconds,
        };
    }
}
