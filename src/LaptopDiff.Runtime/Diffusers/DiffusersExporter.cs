using System.Text.Json;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

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
        var header = SafetensorsFile.ReadHeader(weightsPath);
        WeightLoader.CheckAgainstKeys(layout.LiveKeys, header).ThrowIfMismatched();
        Directory.CreateDirectory(outputDir);
        // copied byte for byte under the new names: no tensor is loaded, so an SDXL-sized model needs no RAM for it
        var entries = layout.LiveKeys.Select(k => header.Find(k.Name)!).ToList();
        SafetensorsFile.SaveSubset(Path.Combine(outputDir, WeightsFile), header, entries, new Dictionary<string, string> { ["format"] = "pt" }, plan.Rename);
        var json = plan.Config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.WriteText(Path.Combine(outputDir, ConfigFile), json + "\n");
    }
}
