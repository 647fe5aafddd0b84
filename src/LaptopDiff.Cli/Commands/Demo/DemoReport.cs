using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LaptopDiff.Cli.IO;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// Gathers the stages' outputs into <c>results.json</c> (every figure) and <c>results.md</c> (the table: params,
/// sampling latency and speed-up against the teacher in the same run, each metric and its decline vs the teacher), and draws the feature-loss plots of the
/// normalized vs vanilla LAPTOP students (the paper's Figures 2 and 3).
/// </summary>
public static class DemoReport
{
    public static string Write(DemoSettings settings, DemoPaths paths, IReadOnlyDictionary<string, double> elapsedSeconds, double wallSeconds, int lanes)
    {
        var compare = Read(paths.Pruning("compare.json"))["methods"]!.AsObject();
        var additivity = Read(paths.Pruning("additivity/additivity.json"))["correlations"]!.AsObject();
        var teacherEval = Eval(Read(paths.Eval("teacher")));
        var teacherLayout = SpecFiles.LoadLayout(paths.TeacherConfig);
        long teacherParams = teacherLayout.TotalParamCount;
        var stages = teacherLayout.FeatureStages.ToList();

        var methods = new JsonObject();
        var logs = new Dictionary<string, IReadOnlyList<IReadOnlyDictionary<string, double>>>();
        foreach (var m in DemoMethod.All)
        {
            var eval = Eval(Read(paths.Eval(m.Id)));
            var oneShot = compare[m.Pruning]!;
            var log = logs[m.Id] = TrainingLog.Read(Path.Combine(paths.Student(m.Id), TrainingLog.FileName));
            var last = log[^1];
            methods[m.Id] = new JsonObject
            {
                ["label"] = m.Label,
                ["pruning"] = m.Pruning,
                ["feature_loss"] = m.FeatureLoss,
                ["params"] = (long)eval["params"]!,
                ["ratio"] = 1 - (double)(long)eval["params"]! / teacherParams,
                ["one_shot_loss"] = oneShot["loss"]?.DeepClone(),
                ["one_shot_loss_stderr"] = oneShot["loss_stderr"]?.DeepClone(),
                ["distill_steps"] = (int)last["step"],
                ["distill_steps_per_s"] = last["step"] / Math.Max(1e-9, last["elapsed_s"]),
                ["distill_final_out"] = last.GetValueOrDefault("out"),
                ["distill_feature_imbalance"] = Number(DistillationPlots.Imbalance(log, stages)),
                ["distill_relative_imbalance"] = Number(DistillationPlots.Imbalance(log, stages, "feat_norm")),
                ["eval"] = eval,
                ["decline"] = Decline(teacherEval, eval),
            };
        }
        var seedStudy = DemoSeedStudy.Summarize(settings, id => Eval(Read(paths.Eval(id))));
        DistillationPlots.Write(paths.RunDir, [("normalized", logs["laptop-normalized"]), ("vanilla", logs["laptop-vanilla"])], stages);

        var results = new JsonObject
        {
            ["format"] = "laptopdiff.demo/2",
            ["model"] = paths.Model,
            ["settings"] = JsonNode.Parse(JsonSerializer.Serialize(settings)),
            ["teacher"] = new JsonObject { ["params"] = teacherParams, ["eval"] = teacherEval },
            ["methods"] = methods,
            ["one_shot"] = compare.DeepClone(),
            ["additivity"] = additivity.DeepClone(),
            ["seed_study"] = seedStudy,
            ["elapsed_s"] = new JsonObject(elapsedSeconds.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)Math.Round(e.Value, 1)))),
            ["wall_s"] = Math.Round(wallSeconds, 1),
        };
        TextOutputs.Write(paths.Run("results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        var markdown = Markdown(settings, teacherParams, teacherEval, methods, additivity, seedStudy, elapsedSeconds, wallSeconds, lanes);
        TextOutputs.Write(paths.Run("results.md"), markdown);
        return paths.Run("results.md");
    }

    private static string Markdown(DemoSettings s, long teacherParams, JsonObject teacher, JsonObject methods, JsonObject additivity,
        JsonObject? seedStudy, IReadOnlyDictionary<string, double> elapsedSeconds, double wallSeconds, int lanes)
    {
        var b = new StringBuilder();
        string Ci(JsonNode? e, string format) => e == null ? "-" : $"{F((double)e["value"]!, format)} [{F((double)e["low"]!, format)}, {F((double)e["high"]!, format)}]";
        b.AppendLine($"# LAPTOP-Diff on the miniature Stable Diffusion (digits): {s.Ratio:P0} of the U-Net removed ({s.Name} run)");
        b.AppendLine();
        b.AppendLine($"Every student: {s.DistillSteps} distillation steps of batch {s.DistillBatch} (lr {F(s.DistillLearningRate, "0.####")}, {s.DistillLearningRateSchedule}) on {s.TrainImages} captioned MNIST digits (caption dropout {F(s.CaptionDropout, "0.##")}). " +
                     $"Evaluation: {s.SamplesPerClass} samples per digit and caption set, DDIM {s.SamplingSteps} steps, guidance {F(s.GuidanceScale, "0.##")}, seed {s.Seed}; " +
                     "95% bootstrap intervals in brackets; decline relative to the teacher. Alignment: the digit classifier agrees with the captioned digit, " +
                     "for training-style captions and for held-out phrasings never seen in training.");
        b.AppendLine();
        b.AppendLine("| model | params | one-shot loss | alignment | decline | held-out alignment | Frechet distance | image MSE to teacher | ms / sample | speed-up |");
        b.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        b.AppendLine($"| teacher | {teacherParams:N0} | - | {Ci(teacher["class_alignment"], "P1")} | - | {Ci(teacher["heldout_alignment"], "P1")} | {Ci(teacher["frechet_distance"], "0.00")} | - | " +
                     $"{F((double)teacher["sampling_ms_per_sample"]!, "0.0")} | 1x |");
        foreach (var (id, node) in methods)
        {
            var m = node!.AsObject();
            var eval = m["eval"]!;
            b.AppendLine($"| {m["label"]} | {(long)m["params"]!:N0} ({F((double)m["ratio"]!, "P1")} removed) | {F((double)m["one_shot_loss"]!, "0.0000")} | " +
                         $"{Ci(eval["class_alignment"], "P1")} | {F((double)m["decline"]!["class_alignment"]!, "P1")} | {Ci(eval["heldout_alignment"], "P1")} | {Ci(eval["frechet_distance"], "0.00")} | " +
                         $"{Ci(eval["teacher_mse"], "0.0000")} | {F((double)eval["sampling_ms_per_sample"]!, "0.0")} | {F((double)m["decline"]!["speedup"]!, "0.00")}x |");
        }
        b.AppendLine();
        b.AppendLine("One-shot loss: output MSE to the teacher right after pruning, before any retraining, on held-out trajectory states (`pruning/compare.json`). " +
                     "Speed-up: the teacher's sampling time per sample over the student's, both measured in the student's evaluation run (same prompts, noise and " +
                     "batch size, each after an untimed one-step warm-up; the teacher samples its first batch there, timed and checked against its saved samples). " +
                     "Image MSE: decoded samples against the teacher's from the same noise (sampled once, in the teacher's evaluation), pixel values in [0, 1].");
        b.AppendLine();
        b.AppendLine("Additivity of the criteria (random unit subsets, real loss vs summed single-unit criteria; `pruning/additivity/additivity.png`):");
        b.AppendLine();
        b.AppendLine("| criterion | Pearson r | Spearman rho | what it sums |");
        b.AppendLine("|---|---:|---:|---|");
        foreach (var (name, c) in additivity)
            b.AppendLine($"| {name} | {F((double?)c!["pearson"] ?? double.NaN, "0.000")} | {F((double?)c["spearman"] ?? double.NaN, "0.000")} | {((string?)c["description"])?.Replace("|", "\\|")} |");
        b.AppendLine();
        b.AppendLine("Per-stage feature-loss imbalance at the end of distillation, largest over smallest stage term, of the un-normalized MSE " +
                     "(`feature-losses.png`) and of the relative error ||F_T - F_S||^2 / ||F_T||^2: " +
                     string.Join(", ", methods.Select(m => $"{m.Key} {F((double?)m.Value!["distill_feature_imbalance"] ?? double.NaN, "0.0")}x / " +
                                                            $"{F((double?)m.Value!["distill_relative_imbalance"] ?? double.NaN, "0.0")}x")) + ".");
        b.AppendLine();
        if (seedStudy != null) b.Append(SeedStudyMarkdown(seedStudy));
        b.AppendLine("Sample grids: `samples/<model>.png`. Every step's command: `commands.sh`.");
        double StageSeconds(string prefix) => elapsedSeconds.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(e => e.Value);
        b.AppendLine();
        string sideBySide = lanes > 1 ? $"; distillations {lanes} at a time, one thread each" : "";
        b.AppendLine($"Time: {F(wallSeconds / 60, "0.0")} min of wall time over all stages, {F(elapsedSeconds.Values.Sum() / 60, "0.0")} min of stage time{sideBySide} " +
                     $"(sweep {F(StageSeconds("sweep"), "0")} s, additivity {F(StageSeconds("additivity"), "0")} s, " +
                     $"distillation {F(StageSeconds("distill"), "0")} s, evaluation {F(StageSeconds("eval"), "0")} s).");
        return b.ToString();
    }

    private static string SeedStudyMarkdown(JsonObject study)
    {
        var seeds = study["seeds"]!.AsArray().Select(seed => (long)seed!).ToList();
        var b = new StringBuilder();
        b.AppendLine($"Normalized against vanilla KD on the same LAPTOP student, distilled with {seeds.Count} seeds ({string.Join(", ", seeds)}; the first is the table's run), " +
                     "every student sampled from the same prompts and noise. Difference: mean over seeds of normalized - vanilla, with its 95% Student-t interval over seeds:");
        b.AppendLine();
        b.AppendLine("| metric | normalized, per seed | vanilla, per seed | difference [95% interval] | verdict |");
        b.AppendLine("|---|---|---|---:|---|");
        foreach (var (key, node) in study["metrics"]!.AsObject())
        {
            var m = node!.AsObject();
            string format = key.Contains("alignment", StringComparison.Ordinal) ? "P1" : key == "teacher_mse" ? "0.0000" : "0.00";
            string Values(string side) => string.Join(", ", m[side]!.AsArray().Select(v => F((double)v!, format)));
            var d = m["difference"]!;
            // a third section formats what rounds to zero without a sign
            string differenceFormat = format == "P1" ? "+0.0%;-0.0%;0.0%" : format == "0.00" ? "+0.00;-0.00;0.00" : "+0.0000;-0.0000;0.0000";
            b.AppendLine($"| {key} ({((bool)m["higher_is_better"]! ? "higher" : "lower")} is better) | {Values("normalized")} | {Values("vanilla")} | " +
                         $"{F((double)d["value"]!, differenceFormat)} [{F((double)d["low"]!, differenceFormat)}, {F((double)d["high"]!, differenceFormat)}] | {m["verdict"]} |");
        }
        b.AppendLine();
        return b.ToString();
    }

    /// <summary>
    /// Relative declines vs the teacher: alignments (lower is worse), Frechet distance (as a ratio), latency against the
    /// teacher's evaluation and the speed-up against the teacher sampled in the student's own run.
    /// </summary>
    private static JsonObject Decline(JsonObject teacher, JsonObject student)
    {
        double V(JsonObject o, string key) => (double)o[key]!["value"]!;
        double Relative(string key) => (V(teacher, key) - V(student, key)) / V(teacher, key);
        return new JsonObject
        {
            ["class_alignment"] = Number(Relative("class_alignment")),
            ["heldout_alignment"] = Number(Relative("heldout_alignment")),
            ["frechet_distance_ratio"] = Number(V(student, "frechet_distance") / V(teacher, "frechet_distance")),
            ["latency_ratio"] = (double)student["sampling_ms_per_sample"]! / (double)teacher["sampling_ms_per_sample"]!,
            ["speedup"] = (double)student["teacher_sampling_ms_per_sample"]! / (double)student["sampling_ms_per_sample"]!,
        };
    }

    /// <summary>
    /// An <c>eval-digits --json</c> object in the demo's shape: the training-style captions' figures under the names
    /// every demo has used (class_alignment, frechet_distance, teacher_mse, sampling_ms_per_sample), the held-out
    /// phrasings' beside them (heldout_*), the rest kept as it came.
    /// </summary>
    private static JsonObject Eval(JsonObject digits)
    {
        var training = digits["training_captions"]!.AsObject();
        var heldOut = digits["heldout_captions"]!.AsObject();
        return new JsonObject
        {
            ["params"] = digits["unet_params"]!.DeepClone(),
            ["class_alignment"] = training["alignment"]!.DeepClone(),
            ["heldout_alignment"] = heldOut["alignment"]!.DeepClone(),
            ["frechet_distance"] = training["frechet_distance"]!.DeepClone(),
            ["heldout_frechet_distance"] = heldOut["frechet_distance"]!.DeepClone(),
            ["teacher_mse"] = training["teacher_mse"]?.DeepClone(),
            ["sampling_ms_per_sample"] = training["sampling_ms_per_sample"]!.DeepClone(),
            ["teacher_sampling_ms_per_sample"] = training["teacher_sampling_ms_per_sample"]?.DeepClone(),
            ["class_accuracy"] = training["class_accuracy"]!.DeepClone(),
            ["heldout_class_accuracy"] = heldOut["class_accuracy"]!.DeepClone(),
            ["samples"] = training["samples"]!.DeepClone(),
            ["steps"] = digits["steps"]!.DeepClone(),
            ["guidance"] = digits["guidance"]!.DeepClone(),
            ["vae"] = digits["vae"]?.DeepClone(),
        };
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static JsonNode? Number(double v) => double.IsFinite(v) ? v : null;

    private static JsonObject Read(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();
}
