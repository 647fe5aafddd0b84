using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Calibration;
using TorchSharp;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// <c>laptop-diff demo [--quick] [--output DIR] [--model PIPELINE] [--study-seeds N]</c>: the whole method on the shipped miniature Stable
/// Diffusion (a digits text-to-image pipeline folder), against the baselines at the same ratio and step budget, ending in
/// DIR/results.md and DIR/results.json. Rerunning resumes.
/// </summary>
public static class DemoCommand
{
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>(
        "Run folder (default runs/demo, runs/demo-quick with --quick); a rerun with the same settings resumes it", required: false);
    private static readonly Option<bool> QuickOption = new("--quick") { Description = "Smoke run of the same pipeline in a few minutes (tiny budgets; its numbers mean nothing)" };
    private static readonly Option<DirectoryInfo> ModelsOption = new("--models") { Description = "The repository's models folder (digits/: MNIST and the digit classifier; digits-sd/: the teacher)", DefaultValueFactory = _ => new DirectoryInfo("models") };
    private static readonly Option<DirectoryInfo?> ModelOption = new("--model") { Description = "The teacher pipeline folder, 32x32 digits from captions (default: MODELS/digits-sd)" };
    private static readonly Option<int?> StudySeedsOption = new("--study-seeds")
    {
        Description = "Also distill the LAPTOP student with normalized and with vanilla KD at this many training seeds in all (the run's own first) and report their paired differences (default: no study; --quick: 2)",
    };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();

    private const string Details = """
        The whole method on the shipped miniature Stable Diffusion (models/digits-sd: VAE, CLIP tokenizer and
        text encoder, text-conditioned U-Net, trained on MNIST) through the generic pipeline code (what
        build/run.sh runs): calibration along the teacher's trajectories for training-style captions, the
        sweep, the additivity check, the knapsack at 50% of the parameters, the BK-SDM-Small preset, a seeded
        random selection, a latency profile and the knapsack at 50% of the measured step latency, their
        one-shot comparison, MNIST training digits as captioned images encoded into shards, five
        distillations of the same step budget (LAPTOP + normalized, BK-SDM-Small + vanilla, LAPTOP +
        vanilla, random + normalized, latency LAPTOP + normalized; streamed, with caption dropout) and the
        evaluation of the teacher and of each student with the digit classifier: alignment for training-style
        captions and for held-out phrasings, Frechet distance, image MSE to the teacher's samples (sampled
        once, in the teacher's evaluation) and sampling time, each student timed against the teacher's
        first batch in one run. The distillations run side by side, one thread each, as many at once as
        --threads; everything else runs in turn on all threads. --study-seeds N distills the LAPTOP student with
        normalized and with vanilla KD at N training seeds in all and reports, per metric, the mean of the
        paired differences with its 95% Student-t interval over seeds (the paper's second claim).

        Writes OUTPUT/results.md and results.json (params, ms per sample, each metric with its interval
        and its decline against the teacher, one-shot losses, additivity correlations), additivity.png,
        feature-losses.png, samples/*.png, logs/ and commands.sh: every laptop-diff command it ran, so
        each stage can be rerun alone. Each finished stage is stamped with the settings and the teacher's
        hash, so a rerun skips it (and a changed one runs again); distillations resume from their
        checkpoints. A missing teacher folder, MNIST or classifier file is exit 2.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("demo", "End to end on the miniature Stable Diffusion (digits): calibration, sweep, additivity, knapsack at 50% of params and of latency, normalized KD, evaluation against the baselines", Details)
        {
            OutputOption, QuickOption, ModelsOption, ModelOption, StudySeedsOption, ThreadsOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            // every stage runs with the same count (commands.sh shows it)
            int threads = parse.GetValue(ThreadsOption) ?? torch.get_num_threads();
            bool quick = parse.GetValue(QuickOption);
            var settings = quick ? DemoSettings.Quick : DemoSettings.Default;
            if (parse.GetValue(StudySeedsOption) is { } studySeeds)
            {
                if (studySeeds < 1) throw new OptionValueException($"--study-seeds {studySeeds}: at least 1 (1: no study)");
                settings = settings with { StudySeeds = studySeeds };
            }
            var models = parse.GetValue(ModelsOption)!.FullName;
            var runDir = parse.GetValue(OutputOption)?.FullName ?? Path.GetFullPath(Path.Combine("runs", quick ? "demo-quick" : "demo"));
            var model = parse.GetValue(ModelOption)?.FullName ?? Path.Combine(models, "digits-sd");
            var paths = new DemoPaths(models, model, runDir);
            var teacherWeights = TeacherWeights(model);
            foreach (var required in new[] { paths.Mnist, paths.Classifier })
                if (!File.Exists(required)) throw new FileNotFoundException($"the demo needs {required}", required);
            Directory.CreateDirectory(runDir);
            foreach (var folder in paths.Folders) Directory.CreateDirectory(Path.Combine(runDir, folder));

            context.Out.WriteLine($"[demo] {settings.Name} run in {runDir} ({threads} threads); teacher {model}");
            var teacherHash = string.Join(" ", teacherWeights.Select(FileDigest.Sha256));
            var runner = new DemoStageRunner(runDir, settings.Fingerprint(teacherHash), context.Out);
            runner.Run(DemoPipeline.Stages(settings, paths, threads), lanes: threads);
            var results = DemoReport.Write(settings, paths, runner.ElapsedSeconds, runner.WallSeconds, threads);
            context.Out.WriteLine(File.ReadAllText(results));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The teacher folder's weight files (U-Net, text encoder, VAE): what the run's stamps hash.</summary>
    private static IReadOnlyList<string> TeacherWeights(string model)
    {
        if (!File.Exists(Path.Combine(model, "model_index.json")))
            throw new FileNotFoundException($"the demo needs a pipeline folder at {model} (model_index.json)", Path.Combine(model, "model_index.json"));
        var files = new[] { "unet", "text_encoder", "vae" }
            .SelectMany(c => Directory.Exists(Path.Combine(model, c)) ? Directory.GetFiles(Path.Combine(model, c), "*.safetensors") : [])
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count < 3)
            throw new FileNotFoundException($"the demo's teacher {model} lacks weights (unet/, text_encoder/ and vae/ each need a .safetensors file)");
        return files;
    }
}
