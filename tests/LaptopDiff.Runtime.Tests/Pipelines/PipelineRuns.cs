using System.Text.Json;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>One full loop of <c>NAME.io.json</c>'s <c>pipeline_runs</c>: what diffusers was called with.</summary>
internal sealed record PipelineRun(string Folder, string Key, SchedulerKind Scheduler, string Prompt, string? NegativePrompt,
    int Steps, double GuidanceScale, int Height, int Width)
{
    public string IoSafetensors => Folder + ".io.safetensors";

    public override string ToString() => $"{Folder} {Key}";

    public TextToImageRequest Request(TorchSharp.torch.Tensor initialLatents) => new()
    {
        Prompts = [Prompt], NegativePrompt = NegativePrompt, Steps = Steps, GuidanceScale = GuidanceScale, Scheduler = Scheduler,
        Height = Height, Width = Width, InitialLatents = initialLatents,
    };
}

internal static class PipelineRuns
{
    /// <summary>Every run of both tiny pipelines (DDIM and Euler, with and without a negative prompt): 8 in all.</summary>
    public static IReadOnlyList<PipelineRun> All { get; } = [.. Read(PipelineFixtures.Sd15), .. Read(PipelineFixtures.Sdxl)];

    public static TheoryData<string, string> Keys()
    {
        var data = new TheoryData<string, string>();
        foreach (var run in All) data.Add(run.Folder, run.Key);
        return data;
    }

    public static PipelineRun Find(string folder, string key) => All.Single(r => r.Folder == folder && r.Key == key);

    private static IEnumerable<PipelineRun> Read(string folder)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.SdPipeline(folder + ".io.json")));
        foreach (var run in document.RootElement.GetProperty("pipeline_runs").EnumerateArray())
            yield return new PipelineRun(folder, run.GetProperty("key").GetString()!,
                run.GetProperty("scheduler").GetString() == "ddim" ? SchedulerKind.Ddim : SchedulerKind.EulerDiscrete,
                run.GetProperty("prompt").GetString()!,
                run.GetProperty("negative_prompt").ValueKind == JsonValueKind.Null ? null : run.GetProperty("negative_prompt").GetString(),
                run.GetProperty("steps").GetInt32(), run.GetProperty("guidance_scale").GetDouble(),
                run.GetProperty("height").GetInt32(), run.GetProperty("width").GetInt32());
    }
}
