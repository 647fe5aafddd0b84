using System.Text.Json.Nodes;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// <c>demo --quick</c> on the shipped digits teacher: the whole pipeline end to end at smoke-test budgets (the
/// README's main command in CI), then a rerun that resumes from the finished stages.
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
        Assert.Equal(new[] { "laptop-normalized", "handcrafted-vanilla", "laptop-vanilla", "random-normalized" }, methods.Select(m => m.Key));
        foreach (var (id, node) in methods)
        {
            var m = node!.AsObject();
            Assert.InRange((long)m["params"]!, 1, teacherParams - 1);
            Assert.True((double)m["one_shot_loss"]! > 0, id);
            var eval = m["eval"]!;
            Assert.InRange((double)eval["class_alignment"]!["value"]!, 0, 1);
            Assert.True(double.IsFinite((double)eval["frechet_distance"]!["value"]!), id);
            Assert.True((double)eval["teacher_mse"]!["value"]! > 0, id);
            Assert.True(File.Exists(Path.Combine(temp.Path, "samples", id + ".png")), id);
        }
        // both LAPTOP students remove at least the target ratio; the one-shot losses are the compare table's
        Assert.True((double)methods["laptop-normalized"]!["ratio"]! >= 0.5);
        Assert.Equal((double)results["one_shot"]!["laptop"]!["loss"]!, (double)methods["laptop-vanilla"]!["one_shot_loss"]!);
        Assert.Contains("| teacher |", File.ReadAllText(temp.File("results.md")));
        Assert.True(File.Exists(temp.File("feature-losses.png")));
        Assert.Contains("laptop-diff sweep", File.ReadAllText(temp.File("commands.sh")));

        var resumed = CliRunner.Run("demo", "--quick", "--models", Models, "--output", temp.Path, "--threads", "2");
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        var stageLines = resumed.Out.Split('\n').Where(l => l.StartsWith("[demo ")).ToList();
        Assert.Equal(methods.Count * 2 + 8, stageLines.Count);
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
        var (code, _, error) = CliRunner.Run("demo", "--quick", "--models", Models, "--teacher", temp.File("none.safetensors"), "--output", output);
        Assert.Equal(2, code);
        Assert.Contains("none.safetensors", error);
        Assert.False(Directory.Exists(output));
    }
}
