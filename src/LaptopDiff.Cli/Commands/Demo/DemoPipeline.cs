using System.Globalization;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// The demo as an ordered list of <c>laptop-diff</c> commands over a digits text-to-image pipeline folder, through
/// the same code a Stable Diffusion folder takes: calibration from training-style prompts along the teacher's own
/// trajectories, the sweep, additivity, the pruned students (LAPTOP knapsack over parameters and over the profiled
/// latency, the BK-SDM-Small preset, random) with their one-shot losses, captioned MNIST images encoded into shards,
/// distillation of each student on the same budget (streamed, with caption dropout; side by side, one thread each), the
/// LAPTOP student's normalized and vanilla distillations again at further seeds (<see cref="DemoSeedStudy"/>), and the digit
/// classifier's evaluation of the teacher (whose samples are kept) and of every student against it.
/// </summary>
public static class DemoPipeline
{
    public static IReadOnlyList<DemoStage> Stages(DemoSettings s, DemoPaths p, int threads)
    {
        var t = new[] { "--threads", N(threads) };
        var model = new[] { "--model", p.Model };
        string criterion = p.Pruning("criterion.json"), prompts = p.Data("prompts.txt"), images = p.Data("train-images"), shards = p.Data("shards"),
            calibration = p.Data("calibration.safetensors"), heldOut = p.Data("heldout.safetensors"), costs = p.Pruning("costs.json");
        DemoStage Calibration(string name, string title, string output, int samples, long seed) => DemoStage.Command(name, title,
            ["calibration", .. model, "--prompts", prompts, "--samples", N(samples), "--steps", N(s.SamplingSteps), "--guidance", I(s.GuidanceScale),
             "--seed", N(seed), "--batch", "64", "--output", output, .. t], output);
        DemoStage Prune(string name, string title, string file, string[] how) => DemoStage.Command(name, title,
            ["prune", .. model, .. how, "--output", p.Pruning(file + ".unet.yaml"), "--student-weights", p.Pruning(file + ".safetensors"), "--json"],
            p.Pruning(file + ".unet.yaml"), p.Pruning(file + ".safetensors"));

        var stages = new List<DemoStage>
        {
            DemoStage.InProcess("prompts", "prompts: every training-style caption of every digit", _ => DemoData.WriteTrainingPrompts(prompts), prompts),
            DemoStage.Command("images", $"images: the first {N(s.TrainImages)} MNIST training digits as a captioned image folder",
                ["digits-images", "--mnist", p.Mnist, "--split", "train", "--captions", "training", "--count", N(s.TrainImages), "--seed", N(s.Seed), "--output", images],
                images) with { Replaces = images },
            Calibration("calibration", "calibration: teacher trajectories from training-style prompts (the sweep's set)", calibration, s.CalibrationSamples, s.Seed),
            Calibration("calibration-heldout", "calibration: further trajectories, other seed (additivity and one-shot losses)", heldOut, s.HeldOutSamples, s.Seed + 1),
            DemoStage.Command("dataset", "dataset: the image folder encoded by the teacher's VAE and text encoder into shards",
                ["dataset", .. model, "--images", images, "--output", shards, "--shard-size", N(s.ShardSize), .. t], shards) with { Replaces = shards },
            DemoStage.Command("sweep", "sweep: every unit's one-shot output loss (the LAPTOP criterion)",
                ["sweep", .. model, "--calibration", calibration, "--output", criterion, "--batch", "64", "--ablations-per-forward", "2", "--seed", N(s.Seed), .. t],
                criterion),
            DemoStage.Command("additivity", "additivity: do the single-unit losses add up? (held-out trajectories)",
                ["additivity", .. model, "--criterion", criterion, "--calibration", heldOut, "--output", p.Pruning("additivity"),
                 "--subsets", N(s.AdditivitySubsets), "--batch", "64", "--seed", N(s.Seed), .. t],
                p.Pruning("additivity/additivity.json"), p.Pruning("additivity/additivity.png")),
            Prune("prune-laptop", $"prune: exact knapsack at {I(s.Ratio)} of the parameters", "laptop",
                ["--criterion", criterion, "--ratio", I(s.Ratio), "--name", "DigitsSdLaptop"]),
            Prune("prune-handcrafted", $"prune: the {DemoMethod.Handcrafted} preset", "handcrafted", ["--preset", DemoMethod.Handcrafted, "--name", "DigitsSdHandcrafted"]),
            Prune("prune-random", $"prune: a seeded random subset at ratio {I(s.Ratio)}", "random",
                ["--random", N(s.Seed), "--ratio", I(s.Ratio), "--name", "DigitsSdRandom"]),
            DemoStage.Command("profile", $"profile: every unit's latency inside a full step (batch {N(s.ProfileBatch)})",
                ["profile", .. model, "--batch", N(s.ProfileBatch), "--runs", N(s.ProfileRuns), "--output", costs, .. t], costs),
            Prune("prune-latency", $"prune: exact knapsack at {I(s.Ratio)} of the measured step latency", "latency",
                ["--criterion", criterion, "--budget", "latency", "--costs", costs, "--batch", N(s.ProfileBatch), "--ratio", I(s.Ratio), "--name", "DigitsSdLaptopLatency"]),
            DemoStage.Command("compare", "compare: one-shot output loss of every method before retraining (held-out trajectories)",
                ["compare", .. model, "--calibration", heldOut, "--criterion", criterion, "--ratio", I(s.Ratio),
                 "--methods", "laptop,bk-sdm-base,bk-sdm-small,random,magnitude", "--student", $"{DemoMethod.LaptopLatency}={p.Pruning("latency.unet.yaml")}",
                 "--seed", N(s.Seed), "--batch", "64", "--json", .. t],
                p.Pruning("compare.json")) with { StdoutFile = p.Pruning("compare.json") },
        };
        // distillations share no files: they run side by side, one thread each, as many at once as there are threads
        var study = DemoSeedStudy.ExtraSeeds(s).SelectMany(seed => new[] { DemoSeedStudy.Normalized, DemoSeedStudy.Vanilla }.Select(m => (m, seed))).ToList();
        var one = new[] { "--threads", "1" };
        foreach (var m in DemoMethod.All)
            stages.Add(DistillStage(s, p, one, m, m.Id, s.Seed));
        foreach (var (m, seed) in study)
            stages.Add(DistillStage(s, p, one, m, DemoSeedStudy.Id(s, m, seed), seed));
        // evaluations time the student against the teacher: one at a time, on every thread
        stages.Add(EvalStage(s, p, t, "teacher", "the teacher", ["--save-samples", p.TeacherSamples], p.TeacherSamples));
        foreach (var m in DemoMethod.All)
            stages.Add(StudentEvalStage(s, p, t, m, m.Id, m.Label));
        foreach (var (m, seed) in study)
            stages.Add(StudentEvalStage(s, p, t, m, DemoSeedStudy.Id(s, m, seed), $"{m.Label}, seed {N(seed)}"));
        return stages;
    }

    private static DemoStage DistillStage(DemoSettings s, DemoPaths p, string[] threads, DemoMethod m, string id, long seed)
    {
        string pruned = DemoMethod.PrunedName(m.Pruning);
        // a killed distillation continues from its last checkpoint
        string[] resume = Directory.Exists(Path.Combine(p.Student(id), "checkpoints")) ? ["--resume"] : [];
        string seedNote = seed == s.Seed ? "" : $", seed {N(seed)}";
        return DemoStage.Command($"distill-{id}", $"distill: {m.Label}{seedNote}, {N(s.DistillSteps)} steps",
            ["distill", "--model", p.Model, "--student-spec", p.Pruning(pruned + ".unet.yaml"), "--student-weights", p.Pruning(pruned + ".safetensors"),
             "--feature-loss", m.FeatureLoss, "--data", p.Data("shards"), "--cfg-dropout", I(s.CaptionDropout), "--output", p.Student(id), "--steps", N(s.DistillSteps),
             "--batch", N(s.DistillBatch), "--lr", I(s.DistillLearningRate), "--lr-schedule", s.DistillLearningRateSchedule, "--warmup", N(Math.Min(20, s.DistillSteps / 10)),
             "--checkpoint-every", N(Math.Max(1, s.DistillSteps / 3)), "--seed", N(seed), "--log-every", "25", .. resume, .. threads],
            Path.Combine(p.Student(id), "student.safetensors")) with { Concurrent = true };
    }

    private static DemoStage StudentEvalStage(DemoSettings s, DemoPaths p, string[] threads, DemoMethod m, string id, string label) =>
        EvalStage(s, p, threads, id, label + ", against the teacher in the same run",
            ["--unet-spec", p.PrunedSpec(m), "--unet-weights", Path.Combine(p.Student(id), "student.safetensors"), "--teacher-samples", p.TeacherSamples]);

    private static DemoStage EvalStage(DemoSettings s, DemoPaths p, string[] threads, string id, string label, string[] extra, params string[] outputs)
    {
        return DemoStage.Command($"eval-{id}", $"eval: {label} (DDIM {s.SamplingSteps}, {N(s.SamplesPerClass)} samples per digit and caption set)",
            ["eval-digits", "--model", p.Model, .. extra, "--classifier", p.Classifier, "--mnist", p.Mnist,
             "--samples-per-class", N(s.SamplesPerClass), "--steps", N(s.SamplingSteps), "--guidance", I(s.GuidanceScale),
             "--seed", N(s.Seed), "--grid", p.Grid(id), "--heldout-grid", p.HeldOutGrid(id), "--json", .. threads],
            [p.Eval(id), p.Grid(id), .. outputs]) with { StdoutFile = p.Eval(id) };
    }

    // command-line text of a number, culture-free (doubles round-trip)
    private static string I(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
}
