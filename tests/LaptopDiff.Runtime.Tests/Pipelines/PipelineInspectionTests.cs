using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>Parameter counts of real-sized folders without allocating weights (the structure folders have neither weights nor tokenizers).</summary>
public sealed class PipelineInspectionTests
{
    [Fact]
    public void Sd15_structure_has_the_real_models_sizes()
    {
        var summary = PipelineInspection.Inspect(PipelineFolder.OpenStructure(PipelineFixtures.Folder(PipelineFixtures.Sd15Structure)));
        var counts = summary.Components.ToDictionary(c => c.Name, c => c.ParamCount);

        Assert.Equal(859_520_964, counts["unet"]);
        Assert.Equal(83_653_863, counts["vae"]);
        Assert.Equal(123_060_480, counts["text_encoder"]);           // CLIP ViT-L/14 text
        Assert.Null(counts["tokenizer"]);
        Assert.Equal("absent (structure-only folder)", summary.Components.Single(c => c.Name == "tokenizer").Detail);
        Assert.Equal("no weights", summary.Components.Single(c => c.Name == "unet").Detail);
        Assert.Equal(859_520_964 + 83_653_863 + 123_060_480, summary.TotalParamCount);
    }

    [Fact]
    public void Sdxl_structure_has_the_real_models_sizes()
    {
        var summary = PipelineInspection.Inspect(PipelineFolder.OpenStructure(PipelineFixtures.Folder(PipelineFixtures.SdxlStructure)));
        var counts = summary.Components.ToDictionary(c => c.Name, c => c.ParamCount);

        Assert.Equal(2_567_463_684, counts["unet"]);
        Assert.Equal(83_653_863, counts["vae"]);
        Assert.Equal(123_060_480, counts["text_encoder"]);
        Assert.Equal(694_659_840, counts["text_encoder_2"]);         // OpenCLIP bigG text with projection
    }

    [Fact]
    public void Weight_dtypes_come_from_the_headers()
    {
        var summary = PipelineInspection.Inspect(PipelineFolder.Open(PipelineFixtures.Folder(PipelineFixtures.Sdxl)));
        var unet = summary.Components.Single(c => c.Name == "unet");

        Assert.Equal("F32", Assert.Single(unet.DTypes).Key);
        Assert.Equal(LaptopDiff.Runtime.Schedulers.SchedulerKind.EulerDiscrete, summary.DefaultScheduler);
        Assert.Equal("samples with EulerDiscreteScheduler", summary.Components.Single(c => c.Name == "scheduler").Detail);
    }
}
