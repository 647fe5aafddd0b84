using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary><c>laptop-diff init-pipeline</c>: a trainable folder from a structure, given components and seeded fresh weights.</summary>
public sealed class PipelineInitTests
{
    public PipelineInitTests() => set_num_threads(1);

    private static string Fixture(string relative) => Path.Combine(TestPaths.SdPipeline(PipelineFixtures.Sd15), relative);

    private static PipelineInitRequest Request(string output, long seed = 0) => new()
    {
        StructureDir = TestPaths.SdPipeline(PipelineFixtures.Sd15),
        From = new Dictionary<string, string> { ["vae"] = Fixture("vae") },
        Seed = seed,
        OutputDir = output,
    };

    [Fact]
    public void Given_components_are_copied_and_the_rest_get_seeded_weights_that_load_strictly()
    {
        using var temp = new TempFolder();
        PipelineInit.Run(Request(temp.File("a")));
        PipelineInit.Run(Request(temp.File("b")));
        PipelineInit.Run(Request(temp.File("c"), seed: 1));

        var folder = PipelineFolder.Open(temp.File("a"));
        using var unet = folder.LoadUNet();
        using var encoder = PipelineModels.LoadTextEncoder(folder);
        Assert.Equal(folder.BuildUNetLayout().TotalParamCount, unet.parameters().Sum(p => p.numel()));
        foreach (var file in new[] { "vae/diffusion_pytorch_model.safetensors", "vae/config.json", "tokenizer/vocab.json", "scheduler/scheduler_config.json", "unet/config.json" })
            Assert.Equal(File.ReadAllBytes(Fixture(file)), File.ReadAllBytes(Path.Combine(temp.File("a"), file)));
        foreach (var file in new[] { "unet/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(temp.File("a"), file)), File.ReadAllBytes(Path.Combine(temp.File("b"), file)));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(temp.File("a"), file)), File.ReadAllBytes(Path.Combine(temp.File("c"), file)));
            Assert.NotEqual(File.ReadAllBytes(Fixture(file)), File.ReadAllBytes(Path.Combine(temp.File("a"), file)));
        }
        // every parameter drawn: no GroupNorm/LayerNorm garbage, no zero conv weights
        Assert.All(unet.parameters().Concat(encoder.parameters()), p => Assert.True(p.isfinite().all().item<bool>()));
    }

    [Fact]
    public void An_existing_output_or_an_unknown_component_is_refused_and_nothing_is_left()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("taken"));
        Assert.Contains("already exists", Assert.Throws<InputException>(() => PipelineInit.Run(Request(temp.File("taken")))).Message);
        var e = Assert.Throws<InputException>(() => PipelineInit.Run(Request(temp.File("x")) with { From = new Dictionary<string, string> { ["tokenizer"] = Fixture("tokenizer") } }));
        Assert.Contains("'tokenizer' is not a model component", e.Message);
        e = Assert.Throws<InputException>(() => PipelineInit.Run(Request(temp.File("y")) with { From = new Dictionary<string, string> { ["vae"] = Fixture("tokenizer") } }));
        Assert.Contains("has no config.json", e.Message);
        Assert.Equal(["taken"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));
    }
}
