using System.Text.Json;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

public class PruneCommandTests
{
    private static string Spec => PruneCriterionFixture.SpecPath;
    private static string Teacher => TestPaths.DiffusersFixture("tiny-sd15.safetensors");

    /// <summary>A folder holding a copy of tiny-sd15.unet.yaml and a criterion for it (losses made up but valid, distinct).</summary>
    private static (TempFolder Temp, string Spec, string Criterion) Setup()
    {
        var temp = new TempFolder();
        var spec = temp.File("tiny-sd15.unet.yaml");
        File.Copy(Spec, spec);
        var layout = SpecFiles.LoadLayout(spec);
        var units = layout.PrunableUnits.Select((u, i) => new CriterionUnit { Id = u.Id, Params = u.ParamCount, Loss = 0.01 * (1 + (i * 7) % 11), StdErr = 0.001 }).ToList();
        var criterion = temp.File("tiny-sd15.criterion.json");
        File.WriteAllText(criterion, CriterionWriter.Write(new CriterionFile
        {
            Spec = new CriterionSpecRef { Name = layout.Spec.Name, Hash = SpecHash.Compute(layout.Spec) },
            Units = units.ToEquatableArray(),
        }));
        return (temp, spec, criterion);
    }

    private static CriterionFile ReadCriterion(string path) => CriterionReader.Parse(path, File.ReadAllText(path)).File!;

    [Fact]
    public void WritesThePrunedSpecAndStudentWeightsThatLoadStrictly()
    {
        var (temp, spec, criterion) = Setup();
        using var _ = temp;
        var output = temp.File("tiny-sd15.pruned30.unet.yaml");
        var student = temp.File("student.safetensors");
        var (code, stdout, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.3", "--output", output,
            "--weights", Teacher, "--student-weights", student);
        Assert.True(code == 0, error);
        Assert.Contains("achieved", stdout);

        var baseLayout = SpecFiles.LoadLayout(spec);
        var expected = KnapsackSolver.Solve(baseLayout, ReadCriterion(criterion), 0.3);
        var pruned = SpecFiles.LoadLayout(output);
        Assert.Equal("TinySd15UNetPruned30", pruned.Spec.Name);
        Assert.Equal(expected.Removed, pruned.Removed);
        Assert.Equal(baseLayout.TotalParamCount - expected.RemovedParams, pruned.TotalParamCount);
        Assert.Contains("base: tiny-sd15.unet.yaml", File.ReadAllText(output));
        Assert.True(expected.RemovedParams >= 0.3 * baseLayout.TotalParamCount);

        using var scope = NewDisposeScope();
        using var model = new UNet2DCondition(pruned);
        var report = WeightLoader.Load(model, student, strict: true);
        Assert.True(report.IsMatch);
        var teacher = SafetensorsFile.Load(Teacher);
        var loaded = SafetensorsFile.Load(student);
        Assert.Equal(pruned.LiveKeys.Select(k => k.Name).OrderBy(k => k, StringComparer.Ordinal), loaded.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, tensor) in loaded)
        {
            Assert.Equal(teacher[name].dtype, tensor.dtype);
            Assert.True(teacher[name].equal(tensor).all().item<bool>(), name);
        }
        foreach (var state in model.state_dict())
            Assert.True(state.Value.equal(teacher[state.Key]).all().item<bool>(), state.Key);
        Assert.DoesNotContain(loaded.Keys, k => expected.Removed.Any(r => k.StartsWith(r + ".", StringComparison.Ordinal)));
    }

    [Fact]
    public void JsonReportsTheFigures()
    {
        var (temp, spec, criterion) = Setup();
        using var _ = temp;
        var output = temp.File("p.unet.yaml");
        var (code, stdout, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.5", "--output", output, "--json", "--name", "Half");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var expected = KnapsackSolver.Solve(SpecFiles.LoadLayout(spec), ReadCriterion(criterion), 0.5);
        Assert.Equal(0.5, root.GetProperty("ratio").GetDouble());
        Assert.Equal(expected.AchievedRatio, root.GetProperty("achieved_ratio").GetDouble());
        Assert.Equal(expected.RemovedParams, root.GetProperty("removed_params").GetInt64());
        Assert.Equal(expected.PredictedLoss, root.GetProperty("predicted_loss").GetDouble());
        Assert.Equal(SpecFiles.LoadLayout(spec).TotalParamCount, root.GetProperty("total_params").GetInt64());
        Assert.Equal(expected.Removed, root.GetProperty("removed").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(Path.GetFullPath(output), root.GetProperty("output").GetString());
        Assert.Equal("Half", SpecFiles.LoadLayout(output).Spec.Name);
    }

    [Fact]
    public void SeveralRatiosGiveTheFrontierAndOneSpecEach()
    {
        var (temp, spec, criterion) = Setup();
        using var _ = temp;
        var (code, stdout, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.2,0.3", "--ratio", "0.5",
            "--output", temp.File("tiny.p{ratio}.unet.yaml"), "--weights", Teacher, "--student-weights", temp.Path);
        Assert.True(code == 0, error);
        Assert.Contains("Pareto frontier", stdout);
        var frontier = KnapsackSolver.Frontier(SpecFiles.LoadLayout(spec), ReadCriterion(criterion), new[] { 0.2, 0.3, 0.5 });
        foreach (var (pct, solution) in new[] { "20", "30", "50" }.Zip(frontier))
        {
            var layout = SpecFiles.LoadLayout(temp.File($"tiny.p{pct}.unet.yaml"));
            Assert.Equal($"TinySd15UNetPruned{pct}", layout.Spec.Name);
            Assert.Equal(solution.Removed, layout.Removed);
            var header = SafetensorsFile.ReadHeader(temp.File($"tiny-sd15.pruned{pct}.safetensors"));
            Assert.True(WeightLoader.CheckAgainstKeys(layout.LiveKeys, header).IsMatch);
        }
        Assert.True(frontier[0].PredictedLoss <= frontier[1].PredictedLoss && frontier[1].PredictedLoss <= frontier[2].PredictedLoss);
    }

    [Fact]
    public void SeveralRatiosNeedARatioPlaceholderOrAFolder()
    {
        var (temp, spec, criterion) = Setup();
        using var _ = temp;
        var before = Directory.GetFiles(temp.Path).Order().ToArray();
        var (code, _, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.3,0.5", "--output", temp.File("p.unet.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("{ratio}", error);
        Assert.Equal(before, Directory.GetFiles(temp.Path).Order().ToArray());
    }

    [Fact]
    public void OutputInAnotherFolderNamesTheBaseByARelativePath()
    {
        var (temp, spec, criterion) = Setup();
        using var _ = temp;
        Directory.CreateDirectory(temp.File("pruned"));
        var output = temp.File(Path.Combine("pruned", "x.unet.yaml"));
        var (code, _, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.3", "--output", output);
        Assert.True(code == 0, error);
        Assert.Contains("base: ../tiny-sd15.unet.yaml", File.ReadAllText(output));
        var layout = SpecFiles.LoadLayout(output);
        Assert.Equal(SpecFiles.LoadLayout(spec).TotalParamCount - layout.RemovedParamCount, layout.TotalParamCount);
        Assert.NotEmpty(layout.Removed);
    }

    [Theory]
    [InlineData("0.99", 2, "LD0016", "maximum achievable ratio")]
    [InlineData("1.5", 2, "--ratio", "between 0 and 1")]
    [InlineData("0", 2, "--ratio", "between 0 and 1")]
    [InlineData("half", 2, "--ratio", "not a number")]
    public void BadRatiosAreErrorsAndWriteNothing(string ratio, int exit, string id, string text)
    {
        var (temp, spec, criterion) = Setup();
        using var _ = temp;
        var before = Directory.GetFiles(temp.Path).Order().ToArray();
        var (code, _, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", ratio, "--output", temp.File("p.unet.yaml"),
            "--weights", Teacher, "--student-weights", temp.File("s.safetensors"));
        Assert.Equal(exit, code);
        Assert.Contains(id, error);
        Assert.Contains(text, error);
        Assert.Equal(before, Directory.GetFiles(temp.Path).Order().ToArray());
    }

    [Fact]
    public void CriterionFromAnotherSpecIsLD0015()
    {
        var (temp, _, _) = Setup();
        using var __ = temp;
        // a criterion for tiny-sd15, used on tiny-sdxl
        var other = temp.File("tiny-sdxl.unet.yaml");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "models", "tiny-sdxl.unet.yaml"), other);
        var before = Directory.GetFiles(temp.Path).Order().ToArray();
        var (code, _, error) = CliRunner.Run("prune", "--spec", other, "--criterion", temp.File("tiny-sd15.criterion.json"), "--ratio", "0.3",
            "--output", temp.File("p.unet.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("LD0015", error);
        Assert.Matches(@"tiny-sd15\.criterion\.json\(\d+,\d+\): error LD0015", error);
        Assert.Equal(before, Directory.GetFiles(temp.Path).Order().ToArray());
    }

    [Fact]
    public void MalformedCriterionIsLD0014WithItsPosition()
    {
        var (temp, spec, criterion) = Setup();
        using var _ = temp;
        File.WriteAllText(criterion, File.ReadAllText(criterion).Replace("\"loss\": 0.01,", "\"loss\": -1,"));
        var (code, _, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.3", "--output", temp.File("p.unet.yaml"));
        Assert.Equal(2, code);
        Assert.Matches(@"tiny-sd15\.criterion\.json\(\d+,\d+\): error LD0014", error);
        Assert.False(File.Exists(temp.File("p.unet.yaml")));
    }

    [Fact]
    public void TeacherWeightsThatDoNotFitTheSpecWriteNothing()
    {
        var (temp, spec, criterion) = Setup();
        using var _ = temp;
        var before = Directory.GetFiles(temp.Path).Order().ToArray();
        var (code, _, error) = CliRunner.Run("prune", "--spec", spec, "--criterion", criterion, "--ratio", "0.3", "--output", temp.File("p.unet.yaml"),
            "--weights", TestPaths.DiffusersFixture("tiny-sdxl.safetensors"), "--student-weights", temp.File("s.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("tiny-sdxl.safetensors", error);
        Assert.Equal(before, Directory.GetFiles(temp.Path).Order().ToArray());
    }

    [Fact]
    public void HelpDocumentsTheRatioList()
    {
        var (code, stdout, _) = CliRunner.Run("prune", "--help");
        Assert.Equal(0, code);
        Assert.Contains("{ratio}", stdout);
        Assert.Contains("--student-weights", stdout);
    }
}
