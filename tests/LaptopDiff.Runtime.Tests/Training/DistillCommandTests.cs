using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Distillation;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Cli;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

public class DistillCommandTests
{
    public DistillCommandTests() => set_num_threads(1);

    private const string StudentYaml = """
        base: tiny-digits.unet.yaml
        name: TinyDigitsStudent
        removed:
          - down_blocks.0.attentions.0
          - mid_block.attentions.0
          - up_blocks.0.resnets.1
          - up_blocks.0.attentions.1
        """;

    /// <summary>A seeded teacher (weights + conditioner), its student spec and a labelled training set.</summary>
    private static (TempFolder Temp, string TeacherSpec, string Teacher, string StudentSpec, string Data) Setup()
    {
        var temp = new TempFolder();
        var spec = TinyDigits.WriteSpec(temp);
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var teacher = new UNet2DCondition(SpecFiles.LoadLayout(spec));
        var weights = temp.File("teacher.safetensors");
        WeightLoader.Save(teacher, weights);
        using var conditioner = new ClassConditioner(3, 2, 8);
        conditioner.Save(temp.File("teacher.conditioner.safetensors"));
        var student = temp.File("student.unet.yaml");
        File.WriteAllText(student, StudentYaml);
        return (temp, spec, weights, student, TinyDigits.WriteData(temp));
    }

    private static string[] Args(string teacherSpec, string teacher, string studentSpec, string data, string output, params string[] extra) =>
        ["distill", "--teacher-spec", teacherSpec, "--teacher-weights", teacher, "--student-spec", studentSpec, "--data", data,
         "--steps", "3", "--batch", "4", "--lr", "1e-3", "--output", output, "--threads", "1", .. extra];

    [Fact]
    public void FusedAndUnfusedFeatureLossesTrainTheSameStudentAndTheOutputsLoad()
    {
        var (temp, teacherSpec, teacher, studentSpec, data) = Setup();
        using var cleanup = temp;
        string fused = temp.File("fused"), torchPath = temp.File("torch");
        var (code, stdout, error) = CliRunner.Run(Args(teacherSpec, teacher, studentSpec, data, fused, "--kernels", "simd"));
        Assert.True(code == 0, error);
        Assert.Contains("wrote", stdout);
        (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, studentSpec, data, torchPath, "--kernels", "torch"));
        Assert.True(code == 0, error);

        var a = TrainingLog.Read(Path.Combine(fused, TrainingLog.FileName));
        var b = TrainingLog.Read(Path.Combine(torchPath, TrainingLog.FileName));
        var stages = new[] { "down.0", "down.1", "mid", "up.0", "up.1" };
        foreach (var key in new[] { "loss", "task", "out", "feat" }.Concat(stages.SelectMany(s => new[] { $"feat/{s}", $"feat_mse/{s}", $"teacher_norm/{s}" })))
            for (int i = 0; i < 3; i++)
                Assert.True(Math.Abs(a[i][key] - b[i][key]) <= 1e-4 * Math.Abs(b[i][key]) + 1e-7, $"step {i + 1} {key}: fused {a[i][key]} vs torch {b[i][key]}");
        foreach (var s in stages)
            Assert.Equal(a[0][$"feat/{s}"], a[0][$"feat_norm/{s}"]);                       // normalized: the term is the ratio

        var layout = SpecFiles.LoadLayout(Path.Combine(fused, StudentDistillation.SpecFile));   // standalone: no base file needed
        Assert.Equal(SpecFiles.LoadLayout(studentSpec).LiveKeys, layout.LiveKeys);
        using var scope = NewDisposeScope();
        using var student = new UNet2DCondition(layout);
        Assert.True(WeightLoader.Load(student, Path.Combine(fused, StudentDistillation.WeightsFile), strict: true).IsMatch);
        using var conditioner = ClassConditioner.Load(Path.Combine(fused, "student.conditioner.safetensors"));
        foreach (var png in new[] { DistillationPlots.FeatureLossesFile, DistillationPlots.TeacherNormsFile })
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(fused, png)).Take(4));
        // a lone transformer removed: diffusers cannot express it, so the LaptopDiff spec is the export and distill.json says why
        var export = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(fused, "distill.json")))!["export"]!;
        Assert.Equal("laptopdiff", (string?)export["format"]);
        Assert.False(string.IsNullOrEmpty((string?)export["reason"]));
        Assert.Contains("no diffusers export", stdout + error);
        Assert.False(Directory.Exists(Path.Combine(fused, StudentDistillation.DiffusersFolder)));

        var compare = temp.File("compare");
        (code, stdout, error) = CliRunner.Run("plot", fused, torchPath, "--output", compare, "--json");
        Assert.True(code == 0, error);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        var runs = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(new[] { "fused", "torch" }, runs.Select(r => r.GetProperty("run").GetString()));
        var finalMse = stages.Select(s => a[2][$"feat_mse/{s}"]).ToList();
        Assert.Equal(finalMse.Max() / finalMse.Min(), runs[0].GetProperty("imbalance").GetDouble(), 6);   // 3 steps: the last tenth is the last step
        var finalRelative = stages.Select(s => a[2][$"feat_norm/{s}"]).ToList();
        Assert.Equal(finalRelative.Max() / finalRelative.Min(), runs[0].GetProperty("relative_imbalance").GetDouble(), 6);
        Assert.True(File.Exists(Path.Combine(compare, DistillationPlots.FeatureLossesFile)));
        (code, _, error) = CliRunner.Run("plot", temp.Path, "--output", compare);
        Assert.Equal(2, code);
        Assert.Contains("has no log.jsonl", error);
    }

    [Fact]
    public void VanillaFeatureLossIsThePerStageMseAndNoneHasNoFeatureTerm()
    {
        var (temp, teacherSpec, teacher, studentSpec, data) = Setup();
        using var cleanup = temp;
        var (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, studentSpec, data, temp.File("v"), "--feature-loss", "vanilla", "--kernels", "simd", "--l-feat", "2"));
        Assert.True(code == 0, error);
        var row = TrainingLog.Read(Path.Combine(temp.File("v"), TrainingLog.FileName))[0];
        var stages = new[] { "down.0", "down.1", "mid", "up.0", "up.1" };
        foreach (var s in stages) Assert.Equal(row[$"feat_mse/{s}"], row[$"feat/{s}"]);
        Assert.Equal(2 * stages.Sum(s => row[$"feat_mse/{s}"]), row["feat"], 5);
        Assert.Equal(row["task"] + row["out"] + row["feat"], row["loss"], 5);

        (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, studentSpec, data, temp.File("n"), "--feature-loss", "none"));
        Assert.True(code == 0, error);
        row = TrainingLog.Read(Path.Combine(temp.File("n"), TrainingLog.FileName))[0];
        Assert.False(row.ContainsKey("feat"));
        Assert.Equal(row["task"] + row["out"], row["loss"], 5);
    }

    [Fact]
    public void BenchTrainTimesFusedAndUnfusedSteps()
    {
        var (temp, teacherSpec, _, studentSpec, _) = Setup();
        using var cleanup = temp;
        var (code, stdout, error) = CliRunner.Run("bench", "train", "--teacher-spec", teacherSpec, "--student-spec", studentSpec,
            "--batch", "2", "--runs", "1", "--warmup", "0", "--threads", "1", "--kernels", "simd", "--json");
        Assert.True(code == 0, error);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        Assert.StartsWith("fused simd", results[0].GetProperty("variant").GetString());
        Assert.Equal("torch (unfused)", results[1].GetProperty("variant").GetString());
        foreach (var r in results)
        {
            Assert.True(r.GetProperty("step_ms").GetDouble() > 0);
            Assert.InRange(r.GetProperty("loss_share").GetDouble(), 1e-6, 1.0);
        }
    }

    private sealed class Killed : Exception;

    [Fact]
    public void AKilledDistillationResumesToTheUninterruptedStudent()
    {
        var (temp, teacherSpec, teacher, studentSpec, data) = Setup();
        using var cleanup = temp;
        DistillRequest Request(string output, bool resume) => new()
        {
            Teacher = SpecFiles.LoadLayout(teacherSpec),
            TeacherWeights = teacher,
            Conditioner = TeacherTraining.ConditionerPathFor(teacher),
            Student = SpecFiles.LoadLayout(studentSpec),
            DataPath = data,
            OutputDir = output,
            Resume = resume,
            Options = new TrainingOptions { Steps = 5, BatchSize = 4, LearningRate = 1e-3, CheckpointEvery = 2, EmaDecay = 0.5, Seed = 2 },
        };
        StudentDistillation.Run(Request(temp.File("straight"), false), new TorchFeatureLoss(), CancellationToken.None);
        Assert.Throws<Killed>(() => StudentDistillation.Run(Request(temp.File("killed"), false), new TorchFeatureLoss(), CancellationToken.None,
            p => { if (p.Step == 3) throw new Killed(); }));
        var resumed = StudentDistillation.Run(Request(temp.File("killed"), true), new TorchFeatureLoss(), CancellationToken.None);
        Assert.Equal(2, resumed.ResumedFrom);
        foreach (var file in new[] { StudentDistillation.WeightsFile, StudentDistillation.EmaWeightsFile })
        {
            using var scope = NewDisposeScope();
            var x = SafetensorsFile.Load(Path.Combine(temp.File("straight"), file));
            var y = SafetensorsFile.Load(Path.Combine(temp.File("killed"), file));
            foreach (var (key, t) in x) Assert.True(t.equal(y[key]).all().item<bool>(), $"{file}: {key}");
        }
    }

    [Fact]
    public void BadInputsExitWithCode2AndLeaveTheRunUntouched()
    {
        var (temp, teacherSpec, teacher, studentSpec, data) = Setup();
        using var cleanup = temp;
        var output = temp.File("run");

        var noBase = temp.File("nobase.unet.yaml");
        File.WriteAllText(noBase, TinyDigits.SpecYaml.Replace("TinyDigitsUNet", "Standalone"));
        var (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, noBase, data, output));
        Assert.Equal(2, code);
        Assert.Contains("has no 'base:'", error);

        File.WriteAllText(temp.File("other.unet.yaml"), TinyDigits.SpecYaml.Replace("channels: 16", "channels: 24"));
        var foreign = temp.File("foreign.unet.yaml");
        File.WriteAllText(foreign, "base: other.unet.yaml\nname: Foreign\nremoved: [mid_block.attentions.0]\n");
        (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, foreign, data, output));
        Assert.Equal(2, code);
        Assert.Contains("is not derived from the teacher spec TinyDigitsUNet", error);

        var wrong = temp.File("wrong.safetensors");
        SafetensorsFile.Save(wrong, new[]
        {
            KeyValuePair.Create("latents", zeros(4, 3, 8, 8)),
            KeyValuePair.Create("labels", zeros(new long[] { 4 }, dtype: ScalarType.Int64)),
        });
        (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, studentSpec, wrong, output));
        Assert.Equal(2, code);
        Assert.Contains("'latents' must be [N,1,H,W]", error);
        Assert.False(Directory.Exists(output));

        (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, studentSpec, data, output));
        Assert.True(code == 0, error);
        var files = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, studentSpec, data, output, "--resume", "--l-feat", "0.5"));
        Assert.Equal(2, code);
        Assert.Contains("another run: l_feat is 1 there but 0.5 in this run", error);
        (code, _, error) = CliRunner.Run(Args(teacherSpec, teacher, studentSpec, data, output, "--feature-loss", "vanilla"));
        Assert.Equal(2, code);
        Assert.Contains("already holds checkpoints; resume that run, or choose another output folder (--resume, --output)", error);
        Assert.Equal(files.Keys.Order(), Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Order());
        foreach (var (path, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(path));
    }
}
