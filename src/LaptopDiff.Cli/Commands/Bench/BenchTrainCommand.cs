using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Benchmarks;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Specs;

namespace LaptopDiff.Cli.Commands.Bench;

/// <summary>
/// <c>laptop-diff bench train --teacher-spec T --student-spec S --batch B [--threads T] [--json]</c>: a
/// distillation training step of the student with the fused and the unfused feature loss, and the loss's share of the step.
/// </summary>
public static class BenchTrainCommand
{
    private static readonly Option<FileInfo> TeacherOption = new("--teacher-spec") { Description = "The teacher's spec", Required = true };
    private static readonly Option<FileInfo> StudentOption = new("--student-spec") { Description = "The pruned student's spec (base: the teacher's)", Required = true };
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Batch size", DefaultValueFactory = _ => 16 };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly Option<int> RunsOption = new("--runs") { Description = "Measured steps per variant (the median is reported)", DefaultValueFactory = _ => 5 };
    private static readonly Option<int> WarmupOption = new("--warmup") { Description = "Warm-up steps per variant", DefaultValueFactory = _ => 1 };
    private static readonly Option<string> KernelsOption = new("--kernels") { Description = "Fused kernel path: auto, simd or ilgpu", DefaultValueFactory = _ => "auto" };
    private static readonly Option<string> FeatureLossOption = new("--feature-loss") { Description = "normalized or vanilla", DefaultValueFactory = _ => "normalized" };
    private static readonly JsonOption JsonOption = CommonOptions.Json("step_ms, loss_ms, loss_share and steps_per_second per variant");

    private const string Details = """
        A student distillation step (teacher forward, student forward+backward, AdamW) with the fused and
        with the unfused feature loss, and each loss's forward+backward alone on that step's stage
        features: step_ms, loss_ms, loss_share and steps_per_second, and the step without the feature
        term. --kernels torch is refused: the benchmark compares a fused path with the torch reference it
        always runs.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("train", "Time a student distillation step (teacher fwd, student fwd+bwd, AdamW) with the fused and the unfused feature loss; the loss's share of the step", Details)
        {
            TeacherOption, StudentOption, BatchOption, ThreadsOption, RunsOption, WarmupOption, KernelsOption, FeatureLossOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            int batch = parse.GetValue(BatchOption), runs = parse.GetValue(RunsOption), warmup = parse.GetValue(WarmupOption);
            if (batch < 1 || runs < 1 || warmup < 0) throw new OptionValueException("--batch and --runs must be at least 1, --warmup at least 0");
            var kind = parse.GetValue(FeatureLossOption) switch
            {
                "normalized" => FeatureKd.Normalized,
                "vanilla" => FeatureKd.Vanilla,
                var other => throw new OptionValueException($"--feature-loss '{other}': expected normalized or vanilla"),
            };
            var teacher = SpecFiles.LoadLayout(parse.GetValue(TeacherOption)!.FullName);
            var student = SpecFiles.LoadLayout(parse.GetValue(StudentOption)!.FullName);
            StudentDistillation.CheckDerived(teacher, student);
            using var kernels = LossKernels.Select(LossKernels.Parse(parse.GetValue(KernelsOption)!))
                ?? throw new OptionValueException("--kernels torch: bench train compares a fused kernel path (auto, simd or ilgpu) with the torch reference it always runs");
            bool json = parse.GetValue(JsonOption);
            var losses = new List<IFeatureLoss> { new KernelFeatureLoss(kernels.Kernels), new TorchFeatureLoss() };
            var timings = DistillStepBenchmark.Run(teacher, student, batch, runs, warmup, losses, kind, json ? null : line => context.Error.WriteLine($"[bench] {line}"));
            double baseline = timings[^1].StepMs;
            var rows = timings.Take(2).Select(r => new
            {
                variant = r.Variant, step_ms = Math.Round(r.StepMs, 2), loss_ms = Math.Round(r.LossMs, 3),
                loss_share = Math.Round(r.LossMs / r.StepMs, 5), steps_per_second = Math.Round(1000 / r.StepMs, 3),
            }).ToList();
            if (json)
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    teacher = teacher.Spec.Name, student = student.Spec.Name, student_params = student.TotalParamCount, batch,
                    threads = TorchSharp.torch.get_num_threads(), feature_loss = kind.ToString().ToLowerInvariant(),
                    no_feature_step_ms = Math.Round(baseline, 2), results = rows,
                }, JsonOptions.Indented));
            else
                foreach (var r in rows)
                    context.Out.WriteLine(FormattableString.Invariant(
                        $"{student.Spec.Name} batch {batch}: {r.variant}: {r.step_ms:F1} ms/step ({r.steps_per_second:F2} steps/s), feature loss forward+backward {r.loss_ms:F2} ms = {100 * r.loss_share:F2}% of the step (step without the term: {baseline:F1} ms)"));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
