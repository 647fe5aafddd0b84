using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Sampling;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Tests.Pipelines;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Sampling;

/// <summary>The evaluation sampler is the pipeline run in batches: its images do not depend on the batch size.</summary>
public sealed class TextToImageSamplerTests
{
    public TextToImageSamplerTests() => set_num_threads(1);

    [Fact]
    public void Batches_give_the_images_of_one_pipeline_call_on_the_same_noise()
    {
        using var sampler = TextToImageSampler.Open(PipelineFolder.Open(TestPaths.SdPipeline(PipelineFixtures.Sd15)));
        string[] prompts = ["a handwritten 7", "the digit three", "a bold 0"];
        using var batched = sampler.Generate(prompts, seed: 5, steps: 2, guidanceScale: 3, batch: 2);

        var spec = sampler.UNet.Layout.Spec;
        using var noise = InitialNoise.Draw(5, 3, spec.InChannels, spec.SampleSize, spec.SampleSize);
        using var whole = sampler.Pipeline.Generate(new TextToImageRequest
        {
            Prompts = prompts, NegativePrompt = "", Steps = 2, GuidanceScale = 3, Scheduler = SchedulerKind.Ddim, InitialLatents = noise,
        });
        using var expected = whole.Images! * 2 - 1;                                          // [0,1] -> [-1,1]
        Assert.Equal(expected.shape, batched.shape);
        Assert.True((batched - expected).abs().max().item<float>() < 1e-5f, $"max difference {(batched - expected).abs().max().item<float>()}");
    }
}
