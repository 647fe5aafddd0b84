using System.CommandLine;
using LaptopDiff.Cli.Commands.Train;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Cli.Commands.Distill;

/// <summary>
/// <c>laptop-diff distill --teacher-spec T --teacher-weights W [--conditioner C] --student-spec S [--student-weights SW]
/// --data TRAIN --steps N --output DIR [--feature-loss normalized|vanilla|none] ...</c>: retrains a pruned student.
/// </summary>
public static class DistillCommand
{
    private static readonly Option<FileInfo> TeacherSpecOption = new("--teacher-spec") { Description = "The teacher's *.unet.yaml spec or diffusers config.json" };
    private static readonly UNetModelOptions Teacher = new(TeacherSpecOption, "--teacher-weights", "Teacher weights (.safetensors)");
    private static readonly Option<FileInfo> ConditionerOption = new("--conditioner") { Description = "The teacher's class conditioner, for labelled data (default: TEACHER.conditioner.safetensors beside the teacher weights, when present)" };
    private static readonly Option<FileInfo> StudentSpecOption = new("--student-spec") { Description = "The pruned spec (base: the teacher's spec), from laptop-diff prune", Required = true };
    private static readonly Option<FileInfo> StudentWeightsOption = new("--student-weights") { Description = "Initial student weights (prune --student-weights); default: the teacher's tensors of the surviving units" };
    private static readonly Option<string> FeatureLossOption = new("--feature-loss") { Description = "normalized (LAPTOP-Diff), vanilla (per-stage MSE, BK-SDM) or none", DefaultValueFactory = _ => "normalized" };
    private static readonly Option<double> OutputWeightOption = new("--l-out") { Description = "Weight of the output KD term ||eps_T - eps_S||^2", DefaultValueFactory = _ => 1.0 };
    private static readonly Option<double> FeatureWeightOption = new("--l-feat") { Description = "Weight of the feature KD term", DefaultValueFactory = _ => 1.0 };
    private static readonly Option<bool> CheckpointOption = new("--checkpoint-activations") { Description = "Recompute each student stage in the backward instead of keeping its activations: less memory, about one more student forward per step, the same gradients" };
    private static readonly Option<string> TeacherDtypeOption = new("--teacher-dtype") { Description = "The frozen teacher's dtype: float32, or bfloat16 (half its memory; targets with bfloat16 rounding, about 1e-2 relative)", DefaultValueFactory = _ => "float32" };
    private static readonly Option<string> KernelsOption = new("--kernels") { Description = "Feature loss: auto, simd or ilgpu (fused kernels) or torch (unfused reference)", DefaultValueFactory = _ => "auto" };

    private const string Details = """
        Retrains a pruned student (its spec must be base: the teacher's spec with units removed, else exit
        2) from the frozen teacher and its frozen conditioner on

          L_task + l_out ||eps_T - eps_S||^2 + l_feat sum_k ||F_T^k - F_S^k||^2 / ||F_T^k||^2

        over the stage-end features (vanilla: the per-stage MSE, as BK-SDM). The feature term runs on the
        fused kernels (--kernels torch: the unfused reference). Checkpoints, --resume, SIGINT and NaN
        handling as in train; log.jsonl has per stage feat/S, feat_norm/S, feat_mse/S (un-normalized) and
        teacher_norm/S.

        A set of several shards without class labels (a folder such as dataset writes) is streamed: each
        epoch visits the shards in a seeded order and each shard's samples in a seeded order, holding at
        most two shards in memory, so sets larger than memory train. With --cfg-dropout, dropped captions
        become the set's empty-prompt states (negative_encoder_hidden_states), as for guidance.

        Writes student.safetensors (student-ema* with --ema), the standalone student.unet.yaml,
        student.conditioner.safetensors, feature-losses.png (the paper's Figure 3),
        teacher-feature-norms.png (Figure 2), diffusers/ where diffusers can express the student (as
        export-diffusers) and distill.json, whose export says which format the export is and, for the
        LaptopDiff spec, why.
        """;

    public static Command Create(CliContext context)
    {
        var shared = new TrainingOptionSet();
        var command = new VerbCommand("distill", "Retrain a pruned student from its frozen teacher: task + output KD + normalized feature KD; resumable; writes OUTPUT/student.safetensors, plots and log.jsonl", Details)
        {
            ConditionerOption, StudentSpecOption, StudentWeightsOption,
            FeatureLossOption, OutputWeightOption, FeatureWeightOption, CheckpointOption, TeacherDtypeOption, KernelsOption,
        };
        Teacher.AddTo(command);
        shared.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var options = shared.Read(parse);
            var distill = OptionValues.Checked(() => new DistillationOptions
            {
                FeatureKd = parse.GetValue(FeatureLossOption) switch
                {
                    "normalized" => FeatureKd.Normalized,
                    "vanilla" => FeatureKd.Vanilla,
                    "none" => FeatureKd.None,
                    var other => throw new ArgumentException($"--feature-loss '{other}': expected normalized, vanilla or none"),
                },
                OutputWeight = parse.GetValue(OutputWeightOption),
                FeatureWeight = parse.GetValue(FeatureWeightOption),
                CheckpointActivations = parse.GetValue(CheckpointOption),
                TeacherDtype = parse.GetValue(TeacherDtypeOption) switch
                {
                    "float32" => TorchSharp.torch.ScalarType.Float32,
                    "bfloat16" => TorchSharp.torch.ScalarType.BFloat16,
                    var other => throw new ArgumentException($"--teacher-dtype '{other}': expected float32 or bfloat16"),
                },
            }.Validate());
            var named = Teacher.Resolve(parse);
            var teacherWeights = named.WeightsPath!;
            var conditioner = parse.GetValue(ConditionerOption)?.FullName ?? DefaultConditioner(teacherWeights);
            var teacher = SpecFiles.LoadLayout(named.SpecPath);
            var student = SpecFiles.LoadLayout(parse.GetValue(StudentSpecOption)!.FullName);
            StudentDistillation.CheckDerived(teacher, student);
            var request = new DistillRequest
            {
                Teacher = teacher,
                TeacherWeights = teacherWeights,
                Conditioner = conditioner,
                Student = student,
                StudentWeights = parse.GetValue(StudentWeightsOption)?.FullName,
                DataPath = parse.GetValue(shared.Data)!.FullName,
                Options = options,
                Distillation = distill,
                OutputDir = parse.GetValue(shared.Output)!.FullName,
                Resume = parse.GetValue(shared.Resume),
                Device = shared.Device.Read(parse),
                Kernels = LossKernels.Parse(parse.GetValue(KernelsOption)!),
            };
            using var signal = new InterruptSignal(ReferenceEquals(context.Error, Console.Error));
            var outcome = TrainingProgressView.Run(context.Error, "distill", parse.GetValue(shared.LogEvery),
                (progress, log) => StudentDistillation.Run(request, signal.Token, progress, log));
            return TrainingReport.Write(context, outcome, request.OutputDir, StudentDistillation.WeightsFile, parse.GetValue(shared.Json));
        }));
        return command;
    }

    /// <summary>The conditioner beside the teacher weights, if there is one (labelled data needs it; other data ignores it).</summary>
    private static string? DefaultConditioner(string teacherWeights)
    {
        var path = TeacherTraining.ConditionerPathFor(teacherWeights);
        return File.Exists(path) ? path : null;
    }
}
