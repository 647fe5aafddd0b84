using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Schedulers;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>What a request resolves to on a folder, before any weights load, and the inputs it refuses.</summary>
public sealed class TextToImagePlanTests
{
    private static readonly PipelineFolder Sd15 = PipelineFolder.Open(PipelineFixtures.Folder(PipelineFixtures.Sd15));
    private static readonly PipelineFolder Sdxl = PipelineFolder.Open(PipelineFixtures.Folder(PipelineFixtures.Sdxl));

    private static TextToImageRequest Request => new() { Prompts = ["a red fox"] };

    [Fact]
    public void Defaults_follow_the_folder_sample_size_and_scheduler()
    {
        var sd = TextToImagePlan.Create(Sd15, Request);
        Assert.Equal((64, 64, 8, 8, 4), (sd.Height, sd.Width, sd.LatentHeight, sd.LatentWidth, sd.LatentChannels));   // sample_size 8 x VAE factor 8
        Assert.Equal(SchedulerKind.Ddim, sd.Scheduler.Kind);                     // PNDM is not implemented: DDIM, with a note
        Assert.Contains("the folder's scheduler is PNDMScheduler, which LaptopDiff does not implement; sampling with DDIMScheduler", sd.SchedulerNote);
        Assert.Equal(new float[] { 64, 64, 0, 0, 64, 64 }, sd.TimeIds);

        var xl = TextToImagePlan.Create(Sdxl, Request with { Height = 48, Width = 80 });
        Assert.Equal(SchedulerKind.EulerDiscrete, xl.Scheduler.Kind);            // the folder's own class, no note
        Assert.Null(xl.SchedulerNote);
        Assert.Equal(new float[] { 48, 80, 0, 0, 48, 80 }, xl.TimeIds);          // (original size, crop (0, 0), target size)
        Assert.Null(TextToImagePlan.Create(Sd15, Request with { Scheduler = SchedulerKind.EulerDiscrete }).SchedulerNote);
    }

    [Fact]
    public void Given_latents_set_the_size()
    {
        using var latents = zeros(2, 4, 5, 7);
        var plan = TextToImagePlan.Create(Sd15, new TextToImageRequest { Prompts = ["a", "b"], InitialLatents = latents });
        Assert.Equal((40, 56, 2), (plan.Height, plan.Width, plan.Batch));
    }

    [Theory]
    [InlineData(60, 64, "height 60 is not a positive multiple of 8")]
    [InlineData(64, 0, "width 0 is not a positive multiple of 8")]
    public void A_size_not_a_multiple_of_8_is_refused(int height, int width, string message)
    {
        var error = Assert.Throws<InputException>(() => TextToImagePlan.Create(Sd15, Request with { Height = height, Width = width }));
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Latents_that_do_not_fit_are_refused_naming_the_shapes()
    {
        using var wrongBatch = zeros(2, 4, 8, 8);
        Assert.Equal("initial latents are [2,4,8,8]; 1 prompt(s) need [1,4,H/8,W/8] (the U-Net's in_channels, the VAE's downscale factor).",
            Assert.Throws<InputException>(() => TextToImagePlan.Create(Sd15, Request with { InitialLatents = wrongBatch })).Message);

        using var latents = zeros(1, 4, 8, 8);
        Assert.Equal("initial latents of 8x8 make 64x64 pixel images (VAE factor 8), not the 128x64 asked for.",
            Assert.Throws<InputException>(() => TextToImagePlan.Create(Sd15, Request with { InitialLatents = latents, Height = 128 })).Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void Steps_outside_the_schedule_are_refused(int steps)
    {
        var error = Assert.Throws<InputException>(() => TextToImagePlan.Create(Sd15, Request with { Steps = steps }));
        Assert.Equal($"{steps} inference steps: the scheduler takes 1 to 1000 (its num_train_timesteps).", error.Message);
    }

    [Fact]
    public void No_prompt_is_refused()
    {
        Assert.Equal("no prompt given: a text-to-image call needs at least one prompt.",
            Assert.Throws<InputException>(() => TextToImagePlan.Create(Sd15, new TextToImageRequest { Prompts = [] })).Message);
    }
}
