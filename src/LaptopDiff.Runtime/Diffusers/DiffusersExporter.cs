using System.Text.Json;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Diffusers;

/// <summary>
/// Writes a (pruned) model as a diffusers model folder: <c>config.json</c> and
/// <c>diffusion_pytorch_model.safetensors</c> with diffusers' key names, loadable by
/// <c>UNet2DConditionModel.from_pretrained(folder)</c> and by <c>laptop-diff --spec folder/config.json</c>.
/// </summary>
public static class DiffusersExporter
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "diffusion_pytorch_model.safetensors";

    /// <summary>Exports when the structure is expressible in diffusers; otherwise returns false with the reason and writes nothing.</summary>
    public static bool TryExport(UNetLayout layout, string weightsPath, string outputDir, out string reason)
    {
        var plan = DiffusersExportPlan.TryCreate(layout, out reason);
        if (plan == null) return false;
        Write(layout, plan, weightsPath, outputDir);
        return true;
    }

    public static void Write(UNetLayout layout, DiffusersExportPlan plan, string weightsPath, string outputDir)
    {
        WeightLoader.CheckAgainstKeys(layout.LiveKeys, SafetensorsFile.ReadHeader(weightsPath)).ThrowIfMismatched();
        using var scope = NewDisposeScope();
        var tensors = SafetensorsFile.Load(weightsPath);
        Directory.CreateDirectory(outputDir);
        var renamed = layout.LiveKeys.Select(k => KeyValuePair.Create(plan.Rename(k.Name), tensors[k.Name])).ToList();
        SafetensorsFile.Save(Path.Combine(outputDir, WeightsFile), renamed, new Dictionary<string, string> { ["format"] = "pt" });
        var json = plan.Config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.Write(Path.Combine(outputDir, ConfigFile), s => s.Write(System.Text.Encoding.UTF8.GetBytes(json + "\n")));
    }
}
