using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Calibration;
using TorchSharp;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// <c>laptop-diff demo [--quick] [--output DIR]</c>: the whole method on the shipped digits teacher, against the
/// baselines at the same ratio and step budget, ending in DIR/results.md and DIR/results.json. Rerunning resumes.
/// </summary>
public static class DemoCommand
{
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>(
        "Run folder (default runs/demo, runs/demo-quick with --quick); a rerun with the same settings resumes it", required: false);
    private static readonly Option<bool> QuickOption = new("--quick") { Description = "Smoke run of the same pipeline in a few minutes (tiny budgets; its numbers mean nothing)" };
    private static readonly Option<DirectoryInfo> ModelsOption = new("--models") { Description = "The repository's models folder (digits.unet.yaml, digits/: MNIST, teacher, classifier)", DefaultValueFactory = _ => new DirectoryInfo("models") };
    private static readonly Option<FileInfo?> TeacherOption = new("--teacher") { Description = "Teacher U-Net weights (default: MODELS/digits/teacher.safetensors; its conditioner is X.conditioner.safetensors beside it)" };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();

    private const string Details = """
        The whole method on the shipped digits teacher (what build/run.sh runs): data, the sweep, the
        additivity check, the knapsack at 50%, the BK-SDM-Small preset and a seeded random selection at
        the same ratio, their one-shot comparison, four distillations of the same step budget (LAPTOP +
        normalized, handcrafted + vanilla, LAPTOP + vanilla, random + normalized) and the evaluation of
        the teacher and of each student.

        Writes OUTPUT/results.md and results.json (params, ms per sample, each metric with its interval
        and its decline against the teacher, one-shot losses, additivity correlations), additivity.png,
        feature-losses.png, samples/*.png, logs/ and commands.sh: every laptop-diff command it ran, so
        each stage can be rerun alone. Each finished stage is stamped with the settings and the teacher's
        hash, so a rerun skips it (and a changed one runs again); distillations resume from their
        checkpoints. A missing teacher, data or classifier file is exit 2.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("demo", "End to end on the digits model: sweep, additivity, knapsack at 50%, normalized KD, evaluation against the baselines", Details)
        {
            OutputOption, QuickOption, ModelsOption, TeacherOption, ThreadsOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            // every stage runs with the same count (commands.sh shows it)
            int threads = parse.GetValue(ThreadsOption) ?? torch.get_num_threads();
            var settings = parse.GetValue(QuickOption) ? DemoSettings.Quick : DemoSettings.Default;
            var models = parse.GetValue(ModelsOption)!.FullName;
            var runDir = parse.GetValue(OutputOption)?.FullName ?? Path.GetFullPath(Path.Combine("runs", settings == DemoSettings.Quick ? "demo-quick" : "demo"));
            var teacher = parse.GetValue(TeacherOption)?.FullName ?? Path.Combine(models, "digits", "teacher.safetensors");
            var paths = new DemoPaths(models, runDir, teacher);
            foreach (var required in new[] { paths.TeacherSpec, paths.TeacherWeights, paths.TeacherConditioner, paths.Mnist, paths.Classifier })
                if (!File.Exists(required)) throw new FileNotFoundException($"the demo needs {required}", required);
            Directory.CreateDirectory(runDir);
            foreach (var folder in paths.Folders) Directory.CreateDirectory(Path.Combine(runDir, folder));

            context.Out.WriteLine($"[demo] {settings.Name} run in {runDir} ({threads} threads); teacher {teacher}");
            var runner = new DemoStageRunner(runDir, settings.Fingerprint(FileDigest.Sha256(teacher)), context.Out);
            runner.Run(DemoPipeline.Stages(settings, paths, threads));
            var results = DemoReport.Write(settings, paths, runner.ElapsedSeconds);
            context.Out.WriteLine(File.ReadAllText(results));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
