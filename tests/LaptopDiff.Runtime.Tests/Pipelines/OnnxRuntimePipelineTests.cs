using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Clip;
using Xunit.Abstractions;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>
/// The text-to-image loop with its U-Net exported and run by ONNX Runtime: the same images as the TorchSharp run and as
/// diffusers' on the tiny SD-1.5 pipeline; a unit mask, which only the TorchSharp U-Net can apply, is refused.
/// </summary>
public sealed class OnnxRuntimePipelineTests(LoadedPipelines pipelines, ITestOutputHelper output) : IClassFixture<LoadedPipelines>
{
    [Fact]
    public void Onnx_runtime_unet_gives_the_torch_runs_images_and_diffusers_and_refuses_a_mask()
    {
        var torchPipeline = pipelines[PipelineFixtures.Sd15];
        using var onnxPipeline = TextToImagePipeline.Load(PipelineFolder.Open(PipelineFixtures.Folder(PipelineFixtures.Sd15)), runtime: UNetRuntime.Onnx);
        Assert.Equal(UNetRuntime.Onnx, onnxPipeline.Runtime);
        Assert.Equal(UNetRuntime.Torch, torchPipeline.Runtime);

        var run = PipelineRuns.Find(PipelineFixtures.Sd15, "pipe.ddim.0");                    // guided: both halves in one ONNX batch
        var io = ClipFixtures.Tensors(run.IoSafetensors);
        try
        {
            var request = run.Request(io[$"{run.Key}.latents_init"]);
            using var torchResult = torchPipeline.Generate(request);
            using var onnxResult = onnxPipeline.Generate(request);

            double latentsVsTorch = ClipFixtures.RelativeL2(onnxResult.Latents, torchResult.Latents);
            double imageVsTorch = ClipFixtures.MaxAbs(onnxResult.Images!, torchResult.Images!);
            double latentsVsDiffusers = ClipFixtures.RelativeL2(onnxResult.Latents, io[$"{run.Key}.latents_final"]);
            double imageVsDiffusers = ClipFixtures.MaxAbs(onnxResult.Images!, io[$"{run.Key}.image"]);
            output.WriteLine($"{run}: ONNX Runtime U-Net vs TorchSharp: final latents rel L2 {latentsVsTorch:E2}, image max abs {imageVsTorch:E2}; " +
                             $"vs diffusers: {latentsVsDiffusers:E2}, {imageVsDiffusers:E2}");
            Assert.InRange(latentsVsTorch, 0, 1e-4);
            Assert.InRange(imageVsTorch, 0, 2e-4);
            Assert.InRange(latentsVsDiffusers, 0, 1e-4);
            Assert.InRange(imageVsDiffusers, 0, 2e-4);
            Assert.Equal(2, onnxResult.Timings.Steps[0].UNetBatch);

            var mask = onnxPipeline.UNet.Plan.Mask(onnxPipeline.UNet.Plan.Units.First(u => u.Prunable).Id);
            var e = Assert.Throws<InputException>(() => onnxPipeline.Generate(request with { Mask = mask }));
            Assert.Contains("Export a pruned student instead", e.Message);
        }
        finally
        {
            foreach (var t in io.Values) t.Dispose();
        }
    }
}
