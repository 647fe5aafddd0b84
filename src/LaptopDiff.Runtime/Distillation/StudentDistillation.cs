using System.Text.Json;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using TorchSharp;

namespace LaptopDiff.Runtime.Distillation;

/// <summary>
/// Retrains a pruned student by distillation from its frozen teacher (<see cref="DistillationObjective"/>)
/// with the shared training machinery (<see cref="Trainer"/>: checkpoints, exact resume, SIGINT, NaN stop).
/// At the end it writes OUTPUT/student.safetensors (+ student-ema.safetensors with EMA), the student's
/// spec standalone as OUTPUT/student.unet.yaml, the teacher's conditioner as student.conditioner.safetensors,
/// the plots (feature-losses.png: the paper's Figure 3; teacher-feature-norms.png: its Figure 2),
/// OUTPUT/diffusers/ (config.json + weights) where diffusers can express the pruned structure, and distill.json.
/// </summary>
public static class StudentDistillation
{
    public const string WeightsFile = "student.safetensors";
    public const string EmaWeightsFile = "student-ema.safetensors";
    public const string SpecFile = "student.unet.yaml";
    public const string DiffusersFolder = "diffusers";

    /// <summary>Refuses a student that is not the teacher's structure with units removed (checked before anything is loaded).</summary>
    public static void CheckDerived(UNetLayout teacher, UNetLayout student)
    {
        if (student.Spec.Base == null)
            throw new InputException($"student spec {student.Spec.Name} has no 'base:'; distill needs a pruned spec derived from the teacher's spec (laptop-diff prune writes one)");
        if (SpecHash.Compute(student.Spec) != SpecHash.Compute(teacher.Spec))
            throw new InputException($"student spec {student.Spec.Name} is not derived from the teacher spec {teacher.Spec.Name}: its base '{student.Spec.Base}' has another structure " +
                                     $"({SpecHash.Compute(student.Spec)} vs {SpecHash.Compute(teacher.Spec)})");
        var missing = teacher.Removed.Where(r => !student.Removed.Contains(r)).ToList();
        if (missing.Count > 0)
            throw new InputException($"student spec {student.Spec.Name} keeps units the teacher lacks: {string.Join(", ", missing)}");
    }

    /// <summary>Distils with the feature loss on <see cref="DistillRequest.Kernels"/> (the fused kernels by default).</summary>
    public static TrainingOutcome Run(DistillRequest request, CancellationToken cancel, Action<TrainingProgress>? onStep = null, Action<string>? log = null)
    {
        // the fused kernels read host memory (their CUDA path takes device pointers through LaptopDiff.Kernels, not this runtime)
        using var kernels = request.Device.type == DeviceType.CPU ? LossKernels.Select(request.Kernels) : null;
        if (kernels != null) log?.Invoke(kernels.ToString());
        return Run(request, kernels == null ? new TorchFeatureLoss() : new KernelFeatureLoss(kernels.Kernels), cancel, onStep, log);
    }

    /// <summary>Distils with the given feature loss implementation.</summary>
    public static TrainingOutcome Run(DistillRequest request, IFeatureLoss featureLoss, CancellationToken cancel,
        Action<TrainingProgress>? onStep = null, Action<string>? log = null)
    {
        var options = request.Options.Validate();
        var distill = request.Distillation.Validate();
        CheckDerived(request.Teacher, request.Student);
        using var conditioner = request.Conditioner != null ? ClassConditioner.Load(request.Conditioner) : null;
        // a set of several shards without class labels streams (sets larger than memory); others load whole
        using var streamed = conditioner == null && StreamedSamples.Applies(request.DataPath) ? new StreamedSamples(request.DataPath, request.Teacher) : null;
        using var set = streamed == null ? CalibrationSet.Load(request.DataPath, request.Teacher, conditioner) : null;
        ITrainingSamples samples = streamed ?? (ITrainingSamples)new LoadedSamples(set!);
        if (set != null && set.Labels is null && conditioner != null)
            throw new InputException($"training data '{request.DataPath}' holds encoder_hidden_states; a class conditioner is only for sets of class labels",
                nameof(request.Conditioner));

        using var teacher = new UNet2DCondition(request.Teacher);
        WeightLoader.Load(teacher, request.TeacherWeights, strict: true);
        using var student = new UNet2DCondition(request.Student);
        if (request.StudentWeights != null) WeightLoader.Load(student, request.StudentWeights, strict: true);
        else WeightLoader.CopyFrom(student, teacher, $"teacher weights '{request.TeacherWeights}' cannot initialise student {request.Student.Spec.Name}");
        teacher.MoveTo(request.Device);
        student.MoveTo(request.Device);
        if (conditioner != null) ModuleDevice.MoveTo(conditioner, request.Device);

        var identity = new RunIdentity(options.IdentityFields().Concat(distill.IdentityFields()).Concat(new Dictionary<string, string>
        {
            ["kind"] = "distill",
            ["teacher"] = $"{request.Teacher.Spec.Name} {TeacherTraining.StructureHash(request.Teacher.Spec)} {FileDigest.Sha256(request.TeacherWeights)}",
            ["student"] = $"{request.Student.Spec.Name} {TeacherTraining.StructureHash(request.Student.Spec)}",
            ["init"] = request.StudentWeights != null ? FileDigest.Sha256(request.StudentWeights) : "(teacher)",
            ["data"] = streamed?.Hash ?? set!.Hash,
            ["conditioner"] = request.Conditioner != null ? FileDigest.Sha256(request.Conditioner) : "(none)",
        }));
        var objective = new DistillationObjective(teacher, student, conditioner, distill, featureLoss);
        var data = new TrainingData(samples, options, conditioner?.NullLabel ?? -1);
        var trainer = new Trainer<TrainingBatch>(objective, data, options, identity, request.OutputDir);
        log?.Invoke($"teacher {request.Teacher.Spec.Name} ({request.Teacher.TotalParamCount:N0} params) -> student {request.Student.Spec.Name} " +
                    $"({request.Student.TotalParamCount:N0} params, {request.Student.Removed.Count} units removed); feature KD {distill.KindName} ({featureLoss.Name}), " +
                    $"l_out {distill.OutputWeight}, l_feat {distill.FeatureWeight}; {samples.Count} samples{(streamed != null ? $" streamed from {streamed.Files.Count} shards" : "")}; {options.Steps} steps of {options.BatchSize}x{options.GradientAccumulation}");
        return trainer.Run(request.Resume, cancel, onStep, log, ema => Export(request, student, conditioner, ema, identity, log));
    }

    private static void Export(DistillRequest request, UNet2DCondition student, ClassConditioner? conditioner, WeightEma? ema,
        RunIdentity identity, Action<string>? log)
    {
        var dir = request.OutputDir;
        var metadata = TeacherTraining.Provenance(request.Student, identity);
        WeightLoader.Save(student, Path.Combine(dir, WeightsFile), metadata);
        var standalone = request.Student.Spec with { Base = null };
        AtomicFile.WriteText(Path.Combine(dir, SpecFile), SpecWriter.Write(standalone));
        if (conditioner != null) conditioner.Save(TeacherTraining.ConditionerPathFor(Path.Combine(dir, WeightsFile)));
        if (ema != null) TeacherTraining.SaveEma(ema, student, null, Path.Combine(dir, EmaWeightsFile), metadata);
        if (conditioner != null && ema != null) conditioner.Save(TeacherTraining.ConditionerPathFor(Path.Combine(dir, EmaWeightsFile)));

        // the export a diffusers user can load, where the pruned structure allows; else the LaptopDiff spec is the export
        bool diffusers = DiffusersExporter.TryExport(request.Student, Path.Combine(dir, WeightsFile), Path.Combine(dir, DiffusersFolder), out var notExpressible);
        log?.Invoke(diffusers
            ? $"diffusers export: {Path.Combine(dir, DiffusersFolder)} (config.json + {DiffusersExporter.WeightsFile})"
            : $"no diffusers export: {notExpressible}; the export is {SpecFile} + {WeightsFile}");

        var rows = TrainingLog.Read(Path.Combine(dir, TrainingLog.FileName));
        var stages = request.Student.FeatureStages.ToList();
        DistillationPlots.Write(dir, [(request.Distillation.KindName, rows)], stages);

        var summary = new Dictionary<string, object?>
        {
            ["student"] = request.Student.Spec.Name,
            ["student_params"] = request.Student.TotalParamCount,
            ["teacher"] = request.Teacher.Spec.Name,
            ["teacher_params"] = request.Teacher.TotalParamCount,
            ["feature_kd"] = request.Distillation.KindName,
            ["export"] = diffusers
                ? new Dictionary<string, object?> { ["format"] = "diffusers", ["path"] = DiffusersFolder }
                : new Dictionary<string, object?> { ["format"] = "laptopdiff", ["path"] = SpecFile, ["reason"] = notExpressible },
            ["final"] = rows.Count > 0 ? rows[^1] : null,
            ["identity"] = identity.Fields,
        };
        var json = JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.WriteText(Path.Combine(dir, "distill.json"), json + "\n");
    }
}
