using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Runtime.Specs;
using TorchSharp;

namespace LaptopDiff.Cli.Commands.Sweep;

/// <summary>
/// <c>laptop-diff sweep --spec S --weights W --calibration C --output CRITERION.json [--batch B]
/// [--ablations-per-forward A] [--shard k/n | --shard auto [--shards N]] [--threads T] ...</c>: the single-unit ablation sweep.
/// </summary>
public static class SweepCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The full model's *.unet.yaml spec or diffusers config.json");
    private static readonly UNetModelOptions Model = new(SpecOption);
    private static readonly Option<FileInfo> CalibrationOption = new("--calibration") { Description = "Calibration set (.safetensors or NAME-00001-of-0000N shards; see src/LaptopDiff.Runtime/Calibration/README.md)", Required = true };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("Criterion file to write (JSON); CRITERION.json.partial and CRITERION.sweep.json go beside it");
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Calibration samples per forward", DefaultValueFactory = _ => 16 };
    private static readonly Option<int> AblationsOption = new("--ablations-per-forward") { Description = "Consecutive units ablated in one suffix forward of batch A x B", DefaultValueFactory = _ => 1 };
    private static readonly Option<string> ShardOption = new("--shard") { Description = "k/n: sweep only units i with i % n == k-1 (merge the n criteria with 'merge'); auto: k and n from a Slurm job array or a Kubernetes Indexed Job", DefaultValueFactory = _ => "1/1" };
    private static readonly Option<int?> ShardsOption = ShardCount();
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the model and every forward");
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the timesteps and noise");
    private static readonly ScheduleOptions ScheduleFlags = new();
    private static readonly Option<bool> NaiveOption = new("--naive") { Description = "Reference strategy: one full masked forward per unit (for verification and timing)" };
    private static readonly Option<string> KernelsOption = new("--kernels") { Description = "Loss reduction: auto, simd or ilgpu (fused kernels) or torch (the float64 reference)", DefaultValueFactory = _ => "auto" };
    private static readonly JsonOption JsonOption = CommonOptions.Json("the run's figures and each unit's loss");

    private const string Details = """
        The LAPTOP criterion: each prunable unit's output loss, the mean over samples of the per-sample
        MSE between the output with the unit removed (eps_-i) and the full model's (eps_T), with its
        standard error. The teacher's activations before each unit are cached, so a unit costs a suffix
        forward. Timesteps cover the whole training schedule; noise comes from --seed.

        Progress goes to stderr with an ETA. A killed sweep resumes from CRITERION.json.partial when run
        again with the same settings; --shard k/n splits the units over n runs that merge joins. --naive
        is the plain reference (one full masked forward per unit). More in
        src/LaptopDiff.Runtime/Pruning/Sweep.md. With --device cuda the losses are reduced on the GPU in
        float64 (the fused --kernels read host memory); the noisy inputs are made on the CPU either way.

        On a cluster, --shard auto takes k and n from the scheduler that started the task: a Slurm job
        array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN and, if set,
        SLURM_ARRAY_TASK_STEP and SLURM_ARRAY_TASK_MAX; --array=1-8 gives shards 1/8 to 8/8, an array
        whose ids are not evenly spaced is refused), or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX
        0 to N-1 gives shards 1/N to N/N, N from --shards, equal to the Job's spec.completions). Missing
        or inconsistent variables, or both schedulers' at once, are an input error (exit 2) naming them.
        build/cluster/ holds a Slurm submit script and Kubernetes Jobs that run the shards and then merge
        (docs/pruning.md, "On a cluster").
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("sweep", "Measure every prunable unit's output loss when removed alone (the LAPTOP criterion); resumes from CRITERION.json.partial", Details)
        {
            CalibrationOption, OutputOption, BatchOption, AblationsOption, ShardOption, ShardsOption, ThreadsOption, DeviceOption,
            SeedOption, NaiveOption, KernelsOption, JsonOption,
        };
        Model.AddTo(command);
        ScheduleFlags.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var shard = SchedulerShard.Resolve(parse.GetValue(ShardOption)!, parse.GetValue(ShardsOption), Environment.GetEnvironmentVariable);
            var options = OptionValues.Checked(() => new SweepOptions
            {
                BatchSize = parse.GetValue(BatchOption),
                AblationsPerForward = parse.GetValue(AblationsOption),
                Strategy = parse.GetValue(NaiveOption) ? SweepStrategy.Naive : SweepStrategy.PrefixCached,
                Shard = shard.Shard,
                Noising = new NoisingSettings
                {
                    Seed = parse.GetValue(SeedOption),
                    Schedule = ScheduleFlags.Read(parse),
                },
            }.Validate());
            bool json = parse.GetValue(JsonOption);

            var unet = Model.Resolve(parse);
            var request = new SweepRequest
            {
                Layout = SpecFiles.LoadLayout(unet.SpecPath),
                WeightsPath = unet.WeightsPath!,
                CalibrationPath = parse.GetValue(CalibrationOption)!.FullName,
                OutputPath = parse.GetValue(OutputOption)!.FullName,
                Options = options,
                Kernels = LossKernels.Parse(parse.GetValue(KernelsOption)!),
                Device = DeviceOption.Read(parse),
            };
            var outcome = SweepProgressView.Run(context.Error, (progress, log) =>
            {
                log($"{request.Layout.Spec.Name}: {request.Layout.PrunableUnits.Count()} prunable units, shard {options.Shard} ({shard.Source}), " +
                    $"{(options.Strategy == SweepStrategy.Naive ? "naive (full masked forwards)" : $"prefix-cached, {options.AblationsPerForward} ablation(s) per forward")}, " +
                    $"batch {options.BatchSize}, {torch.get_num_threads()} threads; noising: {options.Noising}");
                return SweepRunner.Run(request, new SweepHooks { Progress = progress }, log);
            });
            Report(context, outcome, options, json);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary><c>--shards N</c>: the shard count of <c>--shard auto</c> where the scheduler gives none (Kubernetes).</summary>
    private static Option<int?> ShardCount() =>
        new("--shards") { Description = "With --shard auto: the number of shards, required in a Kubernetes Indexed Job (its spec.completions), checked against a Slurm array's task count" };

    private static void Report(CliContext context, SweepOutcome o, SweepOptions options, bool json)
    {
        var r = o.Record;
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                criterion = o.CriterionPath, record = o.RecordPath, spec = r.Identity.SpecName, shard = r.Identity.Shard.ToString(),
                units = o.Criterion.Units.Count, samples = r.Identity.Samples, batch = options.BatchSize,
                ablations_per_forward = options.AblationsPerForward, strategy = options.Strategy == SweepStrategy.Naive ? "naive" : "prefix_cached",
                kernels = o.Reduction, units_resumed = o.UnitsResumed,
                teacher_forwards = o.TeacherForwardsThisRun, ablated_forwards = o.AblatedForwardsThisRun, elapsed_seconds = Math.Round(o.SecondsThisRun, 3),
                total_teacher_forwards = r.TeacherForwards, total_ablated_forwards = r.AblatedForwards, total_elapsed_seconds = Math.Round(r.ElapsedSeconds, 3),
                losses = o.Criterion.Units.ToDictionary(u => u.Id, u => u.Loss),
            }, JsonOptions.Indented));
            return;
        }
        string resumed = o.UnitsResumed > 0 ? FormattableString.Invariant($" ({o.UnitsResumed} units were complete in the partial file)") : "";
        context.Out.WriteLine(FormattableString.Invariant(
            $"wrote {o.CriterionPath}: {o.Criterion.Units.Count} units over {r.Identity.Samples} samples (shard {r.Identity.Shard}); this run: {o.TeacherForwardsThisRun} teacher forwards, {o.AblatedForwardsThisRun} ablated forwards, {o.SecondsThisRun:F2} s{resumed}; in all: {r.TeacherForwards} teacher forwards, {r.ElapsedSeconds:F2} s. Record: {o.RecordPath}"));
    }
}
