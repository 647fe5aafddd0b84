using System.Text.Json;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Clip;

/// <summary>The sd-pipelines fixtures as the CLIP tests read them: prompts, reference ids and tensors.</summary>
internal static class ClipFixtures
{
    public static string Folder(string relative) => TestPaths.SdPipeline(relative);

    public static IReadOnlyList<string> Prompts(string ioJson) =>
        Json(ioJson).GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!).ToList();

    /// <summary>The reference ids of every prompt for one tokenizer folder ("tokenizer" or "tokenizer_2").</summary>
    public static IReadOnlyList<int[]> Ids(string ioJson, string tokenizer) =>
        Json(ioJson).GetProperty("tokenizer").GetProperty(tokenizer).EnumerateArray()
            .Select(ids => ids.EnumerateArray().Select(i => i.GetInt32()).ToArray()).ToList();

    public static Dictionary<string, Tensor> Tensors(string ioSafetensors) => SafetensorsFile.Load(Folder(ioSafetensors));

    /// <summary>||actual - expected|| / ||expected||, in float64.</summary>
    public static double RelativeL2(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var a = actual.to_type(ScalarType.Float64);
        var e = expected.to_type(ScalarType.Float64);
        Assert.Equal(e.shape, a.shape);
        return (a - e).norm().item<double>() / e.norm().item<double>();
    }

    public static double MaxAbs(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected.shape, actual.shape);
        return (actual.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs().max().item<double>();
    }

    private static JsonElement Json(string ioJson)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Folder(ioJson)));
        return document.RootElement.Clone();
    }
}
