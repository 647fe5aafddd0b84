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

        var resumed = CliRunner.Run("demo", "--quick", "--models", Models, "--output", temp.Path, "--threads", "2");
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        var stageLines = resumed.Out.Split('\n').Where(l => l.StartsWith("[demo ")).ToList();
        Assert.Equal(methods.Count * 2 + 14, stageLines.Count);
        Assert.All(stageLines, l => Assert.EndsWith("skipped", l.TrimEnd()));
        var again = JsonNode.Parse(File.ReadAllText(temp.File("results.json")))!;
        Assert.Equal(methods.ToJsonString(), again["methods"]!.ToJsonString());
        // every stage's time survives the resume
        Assert.Equal(stageLines.Count, again["elapsed_s"]!.AsObject().Count);
        Assert.Equal(results["elapsed_s"]!.ToJsonString(), again["elapsed_s"]!.ToJsonString());
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
