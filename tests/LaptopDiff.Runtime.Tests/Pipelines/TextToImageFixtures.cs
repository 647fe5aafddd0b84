using System.Text.Json;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Tests.Images;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>A captioned image folder for the tiny SD-1.5 fixture (64x64 images) and its reference text-encoder outputs.</summary>
internal static class TextToImageFixtures
{
    /// <summary>The first three prompts of tiny-sd15-pipe.io.json: the rows of its te.* reference tensors.</summary>
    public static readonly string[] Prompts =
    [
        "a photograph of an astronaut riding a horse",
        "A Red Fox sitting in the SNOW, 4k, highly detailed",
        "an oil painting of a lighthouse at dusk; waves crashing against the rocks!",
    ];

    /// <summary>
    /// a.png, b.png, c.png (RGB 64x64, captioned with <see cref="Prompts"/>), d.png (grayscale) and e.png (not an image),
    /// every one listed in metadata.jsonl; <paramref name="captionAll"/> false leaves c.png without a caption.
    /// </summary>
    public static string WriteImages(string dir, bool captionAll = true)
    {
        Directory.CreateDirectory(dir);
        foreach (var name in new[] { "a.png", "b.png", "c.png" }) TestImages.WriteRgbPng(Path.Combine(dir, name), 64, 64);
        TestImages.WriteGrayPng(Path.Combine(dir, "d.png"), 64);
        TestImages.WriteGarbage(Path.Combine(dir, "e.png"));
        var captions = new (string File, string Text)[] { ("a.png", Prompts[0]), ("b.png", Prompts[1]), ("c.png", Prompts[2]), ("d.png", "gray"), ("e.png", "broken") };
        File.WriteAllLines(Path.Combine(dir, ImageFolder.MetadataFile), captions.Where(c => captionAll || c.File != "c.png")
            .Select(c => JsonSerializer.Serialize(new Dictionary<string, string> { ["file_name"] = c.File, ["text"] = c.Text })));
        return dir;
    }

    /// <summary>The fixture's te.* tensors (transformers' outputs for <see cref="Prompts"/>).</summary>
    public static Dictionary<string, Tensor> TextEncoderReference() =>
        SafetensorsFile.Load(TestPaths.SdPipeline("tiny-sd15-pipe.io.safetensors"))
            .Where(kv => kv.Key.StartsWith("te.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

    public static double RelativeL2(Tensor actual, Tensor expected) =>
        (actual - expected).norm().item<float>() / Math.Max(expected.norm().item<float>(), 1e-12);
}
