using System.Text.Json;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Clip;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>
/// An exported pipeline folder loads back and samples exactly as its student does in place of the teacher's U-Net, in
/// diffusers' format where the pruned structure is expressible (here: every transformer of an up stage removed) and as
/// a LaptopDiff spec over the teacher's config otherwise (a lone ResNet removed).
/// </summary>
public sealed class PipelineExportTests(LoadedPipelines pipelines) : IClassFixture<LoadedPipelines>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("up_blocks.1.attentions.0, up_blocks.1.attentions.1", true)]
    [InlineData("down_blocks.0.resnets.0", false)]
    public void The_export_samples_as_the_student_in_place(string removed, bool diffusers)
    {
        var teacher = pipelines[PipelineFixtures.Sd15];
        var config = Path.Combine(PipelineFixtures.Folder(PipelineFixtures.Sd15), "unet", "config.json");
        var spec = _temp.File("student.unet.yaml");
        File.WriteAllText(spec, $"name: TinyStudent\nbase: {config}\nremoved: [{removed}]\nprovenance:\n  ratio: 0.1\n  losses:\n    {removed.Split(", ")[0]}: 0.25\n");
        var weights = _temp.File("student.safetensors");
        using (var model = new UNet2DCondition(SpecFiles.LoadLayout(spec)))
        {
            WeightLoader.CopyFrom(model, teacher.UNet, "student");
            WeightLoader.Save(model, weights);
        }
        var student = new UNetReplacement(spec, weights);
        var output = _temp.File("exported");
        var result = PipelineExport.Write(teacher.Folder, student, output);

        Assert.Equal(diffusers, result.DiffusersUNet);
        Assert.Equal(diffusers, !File.Exists(Path.Combine(output, "unet", PipelineFolder.PrunedUNetSpecFile)));
        Assert.Equal(removed.Split(", "), result.Removed.Select(u => u.Id));
        Assert.Equal(0.25, result.Removed[0].OneShotLoss);
        Assert.All(result.Removed.Skip(1), u => Assert.Null(u.OneShotLoss));
        Assert.Equal(result.TeacherParams - result.StudentParams, result.Removed.Sum(u => u.Params));
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, PipelineExport.ManifestFile))))
            Assert.Equal(diffusers ? "diffusers" : "laptopdiff", manifest.RootElement.GetProperty("unet").GetProperty("format").GetString());
        Assert.Empty(Directory.GetDirectories(_temp.Path, ".exported.partial-*"));

        var request = new TextToImageRequest { Prompts = ["a red fox"], Steps = 2, Seed = 4 };
        using var exported = TextToImagePipeline.Load(PipelineFolder.Open(output));
        using var inPlace = TextToImagePipeline.Load(teacher.Folder, student);
        Assert.Equal(result.StudentParams, exported.UNet.Layout.TotalParamCount);
        using var a = exported.Generate(request);
        using var b = inPlace.Generate(request);
        Assert.Equal(0, ClipFixtures.MaxAbs(a.Images!, b.Images!));
    }
}
