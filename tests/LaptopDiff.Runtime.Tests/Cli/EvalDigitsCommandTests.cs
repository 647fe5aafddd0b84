using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// <c>eval-digits --save-samples</c> and <c>--teacher-samples</c> on the shipped miniature SD: a student's image MSE is
/// taken against the saved teacher samples, and the teacher's re-sampled first batch guards them.
/// </summary>
public class EvalDigitsCommandTests
{
    private static string Sd => Path.Combine(TestPaths.RepoRoot, "models", "digits-sd");
    private const int SamplesPerClass = 2, Batch = 10;

    private static string[] Eval(params string[] extra) =>
    [
        "eval-digits", "--model", Sd, "--classifier", Path.Combine(TestPaths.RepoRoot, "models", "digits", "classifier.safetensors"),
        "--mnist", DigitsCommandTests.Mnist, "--samples-per-class", $"{SamplesPerClass}", "--steps", "2", "--batch", $"{Batch}", "--json", .. extra,
    ];

    /// <summary>The folder's own U-Net in the student's place: its samples equal the teacher's.</summary>
    private static string[] Student(string teacherSamples) =>
        ["--unet-spec", Path.Combine(Sd, "unet", "config.json"), "--unet-weights", Path.Combine(Sd, "unet", "diffusion_pytorch_model.safetensors"), "--teacher-samples", teacherSamples];

    /// <summary>The saved samples with <paramref name="shift"/> added to every pixel of samples from <paramref name="from"/> on.</summary>
    private static void WriteShifted(string source, string path, int from, float shift)
    {
        var tensors = SafetensorsFile.Load(source);
        using var image = tensors["image"];
        using var shifted = image.clone();
        shifted.narrow(0, from, image.shape[0] - from).add_(shift);
        SafetensorsFile.Save(path, [KeyValuePair.Create("image", shifted)]);
    }

    [Fact]
    public void AStudentIsMeasuredAgainstSavedTeacherSamples()
    {
        using var temp = new TempFolder();
        var saved = temp.File("teacher.safetensors");
        var teacher = CliRunner.Run(Eval("--save-samples", saved));
        Assert.True(teacher.ExitCode == 0, teacher.Error);
        int total = SamplesPerClass * 10;
        using (var image = SafetensorsFile.Load(saved)["image"])
        {
            Assert.Equal(new long[] { total, 3, 32, 32 }, image.shape);
            Assert.InRange(image.min().item<float>(), 0f, 1f);
            Assert.InRange(image.max().item<float>(), 0f, 1f);
        }

        // samples after the first batch shifted by 0.1: only the file can have told the evaluation, whose MSE is then 0.01 on those
        var shifted = temp.File("shifted.safetensors");
        WriteShifted(saved, shifted, Batch, 0.1f);
        var student = CliRunner.Run(Eval(Student(shifted)));
        Assert.True(student.ExitCode == 0, student.Error);
        var training = JsonNode.Parse(student.Out)!["training_captions"]!;
        Assert.Equal(0.01 * (total - Batch) / total, (double)training["teacher_mse"]!["value"]!, 5);
        Assert.True((double)training["teacher_sampling_ms_per_sample"]! > 0);
    }

    [Fact]
    public void SamplesOfAnotherTeacherAreAnInputError()
    {
        using var temp = new TempFolder();
        var saved = temp.File("teacher.safetensors");
        Assert.Equal(0, CliRunner.Run(Eval("--save-samples", saved)).ExitCode);
        var wrong = temp.File("wrong.safetensors");
        WriteShifted(saved, wrong, 0, 0.1f);
        var (code, _, error) = CliRunner.Run(Eval(Student(wrong)));
        Assert.Equal(2, code);
        Assert.Contains("not this teacher's", error);
    }

    [Fact]
    public void TeacherSamplesWithoutAStudentIsAUsageError()
    {
        using var temp = new TempFolder();
        var (code, _, error) = CliRunner.Run(Eval("--teacher-samples", temp.File("none.safetensors")));
        Assert.Equal(1, code);
        Assert.Contains("--teacher-samples", error);
    }
}
