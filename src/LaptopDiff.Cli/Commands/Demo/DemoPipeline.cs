using System.Globalization;
using LaptopDiff.Runtime.Digits;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// The demo as an ordered list of <c>laptop-diff</c> commands over the shipped digits teacher: data, sweep,
/// additivity, the pruned students (LAPTOP knapsack, handcrafted preset, random) with their one-shot losses,
/// distillation of each student on the same budget, sampling and evaluation of the teacher and every student.
/// </summary>
public static class DemoPipeline
{
    /// <summary>The digits teacher's training schedule (DDPM's linear betas: it works in pixel space).</summary>
    public static readonly string[] Schedule = ["--schedule", "linear", "--beta-start", "0.0001", "--beta-end", "0.02"];

    public static IReadOnlyList<DemoStage> Stages(DemoSettings s, DemoPaths p, int threads)
    {
        string I(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        var t = new[] { "--threads", N(threads) };
        var teacher = new[] { "--spec", p.TeacherSpec, "--weights", p.TeacherWeights };
        string criterion = p.Pruning("criterion.json"), heldOut = p.Data("heldout.safetensors"), train = p.Data("train.safetensors");
        var stages = new List<DemoStage>
        {
            DemoStage.InProcess("data", "data: MNIST training split, class-balanced calibration and held-out sets", _ =>
            {
                DemoData.WriteTrainingSet(p.Mnist, train);
                DemoData.WriteConditionedSubset(p.Mnist, MnistSplit.Train, s.CalibrationSamples, p.TeacherConditioner, p.Data("calibration.safetensors"));
                DemoData.WriteConditionedSubset(p.Mnist, MnistSplit.HeldOut, s.HeldOutSamples, p.TeacherConditioner, heldOut);
            }, train, p.Data("calibration.safetensors"), heldOut),
            DemoStage.Command("sweep", "sweep: every unit's one-shot output loss (the LAPTOP criterion)",
                ["sweep", .. teacher, "--calibration", p.Data("calibration.safetensors"), "--output", criterion, "--batch", "64",
                 "--ablations-per-forward", "2", "--seed", N(s.Seed), .. Schedule, .. t], criterion),
            DemoStage.Command("additivity", "additivity: do the single-unit losses add up? (held-out digits)",
                ["additivity", .. teacher, "--criterion", criterion, "--calibration", heldOut, "--output", p.Pruning("additivity"),
                 "--subsets", N(s.AdditivitySubsets), "--batch", "64", "--seed", N(s.Seed), .. Schedule, .. t],
                p.Pruning("additivity/additivity.json"), p.Pruning("additivity/additivity.png")),
            DemoStage.Command("prune-laptop", $"prune: exact knapsack at ratio {I(s.Ratio)}",
                ["prune", "--spec", p.TeacherSpec, "--criterion", criterion, "--ratio", I(s.Ratio), "--output", p.Pruning("laptop.unet.yaml"),
                 "--weights", p.TeacherWeights, "--student-weights", p.Pruning("laptop.safetensors"), "--name", "DigitsLaptop", "--json"],
                p.Pruning("laptop.unet.yaml"), p.Pruning("laptop.safetensors")),
            DemoStage.Command("prune-handcrafted", $"prune: the {DemoMethod.Handcrafted} preset",
                ["prune", "--preset", DemoMethod.Handcrafted, "--spec", p.TeacherSpec, "--output", p.Pruning("handcrafted.unet.yaml"),
                 "--weights", p.TeacherWeights, "--student-weights", p.Pruning("handcrafted.safetensors"), "--name", "DigitsHandcrafted", "--json"],
                p.Pruning("handcrafted.unet.yaml"), p.Pruning("handcrafted.safetensors")),
            DemoStage.Command("prune-random", $"prune: a seeded random subset at ratio {I(s.Ratio)}",
                ["prune", "--random", N(s.Seed), "--ratio", I(s.Ratio), "--spec", p.TeacherSpec, "--output", p.Pruning("random.unet.yaml"),
                 "--weights", p.TeacherWeights, "--student-weights", p.Pruning("random.safetensors"), "--name", "DigitsRandom", "--json"],
                p.Pruning("random.unet.yaml"), p.Pruning("random.safetensors")),
            DemoStage.Command("compare", "compare: one-shot output loss of every method before retraining (held-out digits)",
                ["compare", .. teacher, "--calibration", heldOut, "--criterion", criterion, "--ratio", I(s.Ratio),
                 "--methods", $"laptop,bk-sdm-base,bk-sdm-small,random,magnitude", "--seed", N(s.Seed), "--batch", "64", "--json", .. Schedule, .. t],
                p.Pruning("compare.json")) with { StdoutFile = p.Pruning("compare.json") },
        };
        foreach (var m in DemoMethod.All)
        {
            string pruned = m.Pruning switch { DemoMethod.Laptop => "laptop", DemoMethod.Random => "random", _ => "handcrafted" };
            // a killed distillation continues from its last checkpoint
            string[] resume = Directory.Exists(Path.Combine(p.Student(m.Id), "checkpoints")) ? ["--resume"] : [];
            stages.Add(DemoStage.Command($"distill-{m.Id}", $"distill: {m.Label}, {N(s.DistillSteps)} steps",
                ["distill", "--teacher-spec", p.TeacherSpec, "--teacher-weights", p.TeacherWeights, "--conditioner", p.TeacherConditioner,
                 "--student-spec", p.Pruning(pruned + ".unet.yaml"), "--student-weights", p.Pruning(pruned + ".safetensors"),
                 "--feature-loss", m.FeatureLoss, "--data", train, "--output", p.Student(m.Id), "--steps", N(s.DistillSteps),
                 "--batch", N(s.DistillBatch), "--lr", I(s.DistillLearningRate), "--warmup", N(Math.Min(20, s.DistillSteps / 10)),
                 "--checkpoint-every", N(Math.Max(1, s.DistillSteps / 3)), "--seed", N(s.Seed), "--log-every", "25", .. resume, .. Schedule, .. t],
                Path.Combine(p.Student(m.Id), "student.safetensors"), Path.Combine(p.Student(m.Id), "student.unet.yaml")));
        }
        stages.Add(EvalStage(s, p, t, "teacher", "the teacher", p.TeacherSpec, p.TeacherWeights, withTeacher: false));
        foreach (var m in DemoMethod.All)
            stages.Add(EvalStage(s, p, t, m.Id, m.Label, Path.Combine(p.Student(m.Id), "student.unet.yaml"), Path.Combine(p.Student(m.Id), "student.safetensors"), withTeacher: true));
        return stages;
    }

    private static DemoStage EvalStage(DemoSettings s, DemoPaths p, string[] threads, string id, string label, string spec, string weights, bool withTeacher)
    {
        string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        string[] teacher = withTeacher
            ? ["--teacher-spec", p.TeacherSpec, "--teacher-weights", p.TeacherWeights, "--teacher-conditioner", p.TeacherConditioner, "--mse-samples", N(s.HeldOutSamples)]
            : [];
        return DemoStage.Command($"eval-{id}", $"eval: {label} (DDIM {s.SamplingSteps}, {N(s.SamplesPerClass)} samples per class)",
            ["eval", "--spec", spec, "--weights", weights, "--conditioner", p.TeacherConditioner, .. teacher, "--classifier", p.Classifier, "--mnist", p.Mnist,
             "--samples-per-class", N(s.SamplesPerClass), "--steps", N(s.SamplingSteps), "--guidance", s.GuidanceScale.ToString("R", CultureInfo.InvariantCulture),
             "--seed", N(s.Seed), "--grid", p.Grid(id), "--json", .. Schedule, .. threads],
            p.Eval(id), p.Grid(id)) with { StdoutFile = p.Eval(id) };
    }
}
