using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Vae;

/// <summary>The VAEs of the tiny pipeline fixtures (tiny-sd15-pipe, tiny-sdxl-pipe) and their reference tensors.</summary>
internal static class TinyVaes
{
    public const string Sd15 = "tiny-sd15-pipe";
    public const string Sdxl = "tiny-sdxl-pipe";

    public static string ConfigPath(string pipeline) => Path.Combine(TestPaths.SdPipelines, pipeline, "vae", "config.json");

    public static string WeightsPath(string pipeline) =>
        Path.Combine(TestPaths.SdPipelines, pipeline, "vae", "diffusion_pytorch_model.safetensors");

    public static AutoencoderKL Load(string pipeline) => AutoencoderKL.Load(ConfigPath(pipeline), WeightsPath(pipeline));

    /// <summary>The pipeline's <c>vae.*</c> reference tensors.</summary>
    public static Dictionary<string, Tensor> Io(string pipeline) =>
        SafetensorsFile.Load(Path.Combine(TestPaths.SdPipelines, $"{pipeline}.io.safetensors"))
            .Where(kv => kv.Key.StartsWith("vae.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>The tiny fixtures' structure, for tests that need no weights.</summary>
    public static VaeConfig TinyConfig => VaeConfigReader.ReadFile(ConfigPath(Sd15));
}
