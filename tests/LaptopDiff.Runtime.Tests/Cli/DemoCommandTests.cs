using System.Text.Json.Nodes;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// <c>demo --quick</c> on the shipped miniature Stable Diffusion (models/digits-sd): the whole pipeline end to end at
/// smoke-test budgets (the README's main command in CI), then a rerun that resumes from the finished stages.
/// </summary>
public class DemoCommandTests
{
    private static string Models => Path.Combine(TestPaths.RepoRoot, "models");

    [Fact]
    public void QuickDemoRunsEveryStageAndARerunResumes()
    {
        using var temp = new TempFolder();
        var (code, stdout, error) = CliRunner.Run("demo", "--quick", "--models", Models, "--output", temp.Path, "--threads", "2");
        Assert.True(code == 0, error + stdout);

        var results = JsonNode.Parse(File.ReadAllText(temp.File("results.json")))!.AsObject();
        long teacherParams = (long)results["teacher"]!["params"]!;
        var methods = results["methods"]!.AsObject();
        Assert.Equal(new[] { "laptop-normalized", "bk-sdm-vanilla", "laptop-vanilla", "random-normalized", "laptop-latency-normalized" }, methods.Select(m => m.Key));
        var teacher = results["teacher"]!["eval"]!;
        Assert.InRange((double)teacher["heldout_alignment"]!["value"]!, 0, 1);
        Assert.Null(teacher["teacher_mse"]);
        foreach (var (id, node) in methods)
        {
            var m = node!.AsObject();
            Assert.InRange((long)m["params"]!, 1, teacherParams - 1);
            Assert.True((double)m["one_shot_loss"]! > 0, id);
            var eval = m["eval"]!;
            Assert.InRange((double)eval["class_alignment"]!["value"]!, 0, 1);
            Assert.InRange((double)eval["heldout_alignment"]!["value"]!, 0, 1);
            Assert.True((double)eval["sampling_ms_per_sample"]! > 0 && (double)eval["teacher_sampling_ms_per_sample"]! > 0, id);
            Assert.True(double.IsFinite((double)eval["frechet_distance"]!["value"]!), id);
            Assert.True((double)eval["teacher_mse"]!["value"]! > 0, id);
            Assert.True(File.Exists(Path.Combine(temp.Path, "samples", id + ".png")), id);
        }
        // the parameter-budget LAPTOP students remove at least the target ratio; the one-shot losses are the compare table's,
        // the latency student's among them
        Assert.True((double)methods["laptop-normalized"]!["ratio"]! >= 0.5);
        Assert.Equal((double)results["one_shot"]!["laptop"]!["loss"]!, (double)methods["laptop-vanilla"]!["one_shot_loss"]!);
        Assert.Equal((double)results["one_shot"]!["laptop-latency"]!["loss"]!, (double)methods["laptop-latency-normalized"]!["one_shot_loss"]!);
        Assert.Contains("| teacher |", File.ReadAllText(temp.File("results.md")));
        Assert.True(File.Exists(temp.File("feature-losses.png")));
        var commands = File.ReadAllText(temp.File("commands.sh"));
        Assert.Contains("laptop-diff sweep --model", commands);
        Assert.Contains("laptop-diff prune --model", commands);
        Assert.Contains("--budget latency", commands);
        // the quick run's seed study: the LAPTOP student distilled both ways at seeds 0 and 1, each seed's figures
        // the evaluation files', the difference their paired mean
        var study = results["seed_study"]!;
        Assert.Equal(new long[] { 0, 1 }, study["seeds"]!.AsArray().Select(seed => (long)seed!));
        Assert.Contains("--seed 1", commands);
        foreach (var key in new[] { "class_alignment", "heldout_alignment", "frechet_distance", "teacher_mse" })
        {
            var metric = study["metrics"]![key]!;
            var normalized = metric["normalized"]!.AsArray().Select(v => (double)v!).ToList();
            var vanilla = metric["vanilla"]!.AsArray().Select(v => (double)v!).ToList();
            Assert.Equal((double)methods["laptop-normalized"]!["eval"]![key]!["value"]!, normalized[0]);
            Assert.Equal(EvalValue(temp.Path, "laptop-vanilla-seed1", key), vanilla[1]);
            Assert.Equal(((normalized[0] - vanilla[0]) + (normalized[1] - vanilla[1])) / 2, (double)metric["difference"]!["value"]!, 12);
        }
        Assert.Contains("Normalized against vanilla KD", File.ReadAllText(temp.File("results.md")));

        var resumed = CliRunner.Run("demo", "--quick", "--models", Models, "--output", temp.Path, "--threads", "2");
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        var stageLines = resumed.Out.Split('\n').Where(l => l.StartsWith("[demo ")).ToList();
        Assert.Equal(methods.Count * 2 + 14 + 4, stageLines.Count);   // + the seed study's two distillations and evaluations
        Assert.All(stageLines, l => Assert.EndsWith("skipped", l.TrimEnd()));
        var again = JsonNode.Parse(File.ReadAllText(temp.File("results.json")))!;
        Assert.Equal(methods.ToJsonString(), again["methods"]!.ToJsonString());
        // every stage's time survives the resume
        Assert.Equal(stageLines.Count, again["elapsed_s"]!.AsObject().Count);
        Assert.Equal(results["elapsed_s"]!.ToJsonString(), again["elapsed_s"]!.ToJsonString());
    }

    /// <summary>The training-style caption figure <paramref name="key"/> of an eval-digits --json file, by the demo's names.</summary>
    private static double EvalValue(string runDir, string id, string key)
    {
        var captions = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "eval", id + ".json")))![key.StartsWith("heldout_") ? "heldout_captions" : "training_captions"]!;
        string name = key switch { "class_alignment" or "heldout_alignment" => "alignment", _ => key };
        return (double)captions[name]!["value"]!;
    }

    [Fact]
    public void ZeroStudySeedsIsAnInputErrorAndWritesNothing()
    {
        using var temp = new TempFolder();
        var output = Path.Combine(temp.Path, "run");
        var (code, _, error) = CliRunner.Run("demo", "--quick", "--models", Models, "--study-seeds", "0", "--output", output);
        Assert.Equal(2, code);
        Assert.Contains("--study-seeds 0", error);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void AMissingTeacherIsAnInputErrorAndWritesNothing()
    {
        using var temp = new TempFolder();
        var output = Path.Combine(temp.Path, "run");
        var (code, _, error) = CliRunner.Run("demo", "--quick", "--models", Models, "--model", temp.File("none"), "--output", output);
        Assert.Equal(2, code);
        Assert.Contains("none", error);
        Assert.False(Directory.Exists(output));
    }
}
