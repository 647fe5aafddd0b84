using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Pruning.Baselines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Clip;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>
/// A pruned student in place of the pipeline's U-Net: a spec whose <c>base:</c> is the folder's <c>unet/config.json</c>,
/// with the teacher's surviving weights, samples exactly like the teacher with the same units masked.
/// </summary>
public sealed class UNetReplacementTests(LoadedPipelines pipelines) : IClassFixture<LoadedPipelines>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string TeacherConfig => Path.Combine(PipelineFixtures.Folder(PipelineFixtures.Sd15), "unet", "config.json");

    /// <summary>A seeded random selection at 30% written as a pruned spec over the folder's config.json, and its weights.</summary>
    private (UNetReplacement Student, IReadOnlyList<string> Removed) WriteStudent(TextToImagePipeline teacher)
    {
        var removed = RandomSelection.Select(teacher.UNet.Layout, 0.3, seed: 3).Removed;
        var spec = _temp.File("student.unet.yaml");
        var baseRef = Path.GetRelativePath(_temp.Path, TeacherConfig).Replace('\\', '/');
        File.WriteAllText(spec, $"name: TinyStudent\nbase: {baseRef}\nremoved: [{string.Join(", ", removed)}]\n");
        var weights = _temp.File("student.safetensors");
        using (var student = new UNet2DCondition(SpecFiles.LoadLayout(spec)))
        {
            WeightLoader.CopyFrom(student, teacher.UNet, "student");
            WeightLoader.Save(student, weights);
        }
        return (new UNetReplacement(spec, weights), removed);
    }

    [Fact]
    public void A_pruned_spec_resolves_a_json_base()
    {
        var (student, removed) = WriteStudent(pipelines[PipelineFixtures.Sd15]);
        var layout = SpecFiles.LoadLayout(student.SpecPath);
        var (baseSpec, basePath) = SpecFiles.LoadBase(student.SpecPath)!.Value;

        Assert.Equal(Path.GetFullPath(TeacherConfig), basePath);
        Assert.Equal(removed, layout.Removed);
        Assert.Equal(792_964, LaptopDiff.Spec.LayoutBuilder.BuildOrThrow(baseSpec, basePath).TotalParamCount);
        Assert.True(layout.TotalParamCount <= 792_964 * 0.7);
    }

    [Fact]
    public void A_student_samples_as_the_teacher_with_its_units_masked()
    {
        var teacher = pipelines[PipelineFixtures.Sd15];
        var (replacement, removed) = WriteStudent(teacher);
        using var student = TextToImagePipeline.Load(teacher.Folder, replacement);
        var request = new TextToImageRequest { Prompts = ["a red fox", "a lighthouse"], NegativePrompt = "blurry", Steps = 3, Seed = 11 };

        using var pruned = student.Generate(request);
        using var masked = teacher.Generate(request with { Mask = teacher.UNet.Plan.Mask([.. removed]) });
        using var full = teacher.Generate(request);

        Assert.Equal("TinyStudent", student.UNet.Layout.Spec.Name);
        Assert.Equal(0.0, ClipFixtures.MaxAbs(pruned.Latents, masked.Latents));
        Assert.Equal(0.0, ClipFixtures.MaxAbs(pruned.Images!, masked.Images!));
        Assert.True(ClipFixtures.MaxAbs(pruned.Latents, full.Latents) > 1e-3);      // the removed units mattered
    }

    [Fact]
    public void A_student_of_another_structure_is_refused_with_both_hashes()
    {
        var teacher = pipelines[PipelineFixtures.Sd15];
        var otherConfig = Path.Combine(PipelineFixtures.Folder(PipelineFixtures.Sdxl), "unet", "config.json");
        var spec = _temp.File("other.unet.yaml");
        File.WriteAllText(spec, $"name: Other\nbase: {otherConfig}\nremoved: []\n");

        var error = Assert.Throws<PipelineException>(() => new UNetReplacement(spec, _temp.File("none.safetensors")).Load(teacher.Folder));

        Assert.StartsWith($"U-Net spec '{spec}' is based on '{otherConfig}', which has another structure than the pipeline's U-Net ({TeacherConfig}): structure hash sha256:", error.Message);
        Assert.Contains("A student replaces the U-Net only when its base is that U-Net", error.Message);
    }

    [Fact]
    public void Student_weights_must_hold_exactly_its_keys()
    {
        var teacher = pipelines[PipelineFixtures.Sd15];
        var (replacement, _) = WriteStudent(teacher);
        var teacherWeights = Path.Combine(PipelineFixtures.Folder(PipelineFixtures.Sd15), "unet", "diffusion_pytorch_model.safetensors");

        var error = Assert.Throws<WeightsException>(() => (replacement with { WeightsPath = teacherWeights }).Load(teacher.Folder));

        Assert.Contains("unexpected in the file", error.Message);
    }
}
