using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Tests.Weights;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>The tiny pipeline folders of ../shared/fixtures/sd-pipelines, and copies of them for tests that break one.</summary>
internal static class PipelineFixtures
{
    public const string Sd15 = "tiny-sd15-pipe";
    public const string Sdxl = "tiny-sdxl-pipe";
    public const string Sd15Structure = "configs/sd15-structure";
    public const string SdxlStructure = "configs/sdxl-structure";

    public static string Folder(string name) => TestPaths.SdPipeline(name);

    /// <summary>A copy of the fixture folder inside <paramref name="temp"/>.</summary>
    public static string Copy(TempFolder temp, string name)
    {
        var target = temp.File(Path.GetFileName(name));
        CopyTree(Folder(name), target);
        return target;
    }

    /// <summary>Rewrites the folder's model_index.json.</summary>
    public static void EditIndex(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, "model_index.json");
        var index = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(index);
        File.WriteAllText(path, index.ToJsonString());
    }

    private static void CopyTree(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(source)) CopyTree(dir, Path.Combine(target, Path.GetFileName(dir)));
    }
}
