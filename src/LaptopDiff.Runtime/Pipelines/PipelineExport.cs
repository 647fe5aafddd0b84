using System.Text.Json;
using System.Text.RegularExpressions;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>A removed unit as the export manifest lists it: its parameters and its one-shot loss (null when the pruned spec does not record it).</summary>
public sealed record RemovedUnit(string Id, long Params, double? OneShotLoss);

/// <summary>What <see cref="PipelineExport.Write"/> wrote: where, in which U-Net format (and why not diffusers'), and the units removed.</summary>
public sealed record PipelineExportResult(string Directory, bool DiffusersUNet, string? Reason, long TeacherParams, long StudentParams,
    IReadOnlyList<RemovedUnit> Removed);

/// <summary>
/// A pipeline folder with a pruned student in place of its U-Net: every other component copied from the teacher's folder,
/// the U-Net as diffusers' <c>config.json</c> + weights where diffusers can express the pruned structure, otherwise the
/// teacher's <c>config.json</c> with <see cref="PipelineFolder.PrunedUNetSpecFile"/> (the pruned spec, <c>base: config.json</c>)
/// and the surviving units' weights. <see cref="ManifestFile"/> says which, and why, and lists the teacher, every removed unit
/// (parameters, one-shot loss), the method and the ratio. The folder is built beside the output and renamed into place, so a
/// failed export leaves nothing.
/// </summary>
public static partial class PipelineExport
{
    public const string ManifestFile = "laptopdiff.json";
    public const string ManifestFormat = "laptopdiff.export/1";

    public static PipelineExportResult Write(PipelineFolder teacher, UNetReplacement student, string outputDirectory)
    {
        var layout = student.Check(teacher);
        WeightLoader.CheckAgainstKeys(layout.LiveKeys, SafetensorsFile.ReadHeader(student.WeightsPath)).ThrowIfMismatched();
        var output = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new InputException($"export folder '{output}' exists and is not empty; name a new folder.");
        if (File.Exists(output)) throw new InputException($"export folder '{output}' is a file; name a new folder.");
        var parent = Path.GetDirectoryName(output)!;
        if (!Directory.Exists(parent)) throw new DirectoryNotFoundException($"the export folder's parent does not exist: {parent}");
        if (Path.GetRelativePath(teacher.Directory, output) is var rel && !rel.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(rel))
            throw new InputException($"export folder '{output}' is inside the teacher's folder '{teacher.Directory}'; name a folder outside it.");

        var staging = Path.Combine(parent, $".{Path.GetFileName(output)}.partial-{Guid.NewGuid():N}");
        try
        {
            CopyComponents(teacher, staging);
            var unetDir = Path.Combine(staging, teacher.UNet.Name);
            bool diffusers = DiffusersExporter.TryExport(layout, student.WeightsPath, unetDir, out var reason);
            if (!diffusers) WriteLaptopDiffUNet(teacher, student, layout, unetDir);
            var result = new PipelineExportResult(output, diffusers, diffusers ? null : reason,
                layout.BaseParamCount, layout.TotalParamCount, RemovedUnits(layout));
            File.WriteAllText(Path.Combine(staging, ManifestFile), Manifest(teacher, student, layout, result) + "\n");
            if (Directory.Exists(output)) Directory.Delete(output);                               // empty, checked above
            Directory.Move(staging, output);
            return result;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary><c>model_index.json</c> and every folder but the U-Net's, as they are (other variants and unused components included).</summary>
    private static void CopyComponents(PipelineFolder teacher, string staging)
    {
        Directory.CreateDirectory(staging);
        File.Copy(teacher.ModelIndexPath, Path.Combine(staging, Path.GetFileName(teacher.ModelIndexPath)));
        foreach (var dir in Directory.EnumerateDirectories(teacher.Directory))
        {
            if (Path.GetFileName(dir) == teacher.UNet.Name) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(staging, Path.GetRelativePath(teacher.Directory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }

    /// <summary>The teacher's config, the pruned spec over it and the surviving tensors under their teacher names.</summary>
    private static void WriteLaptopDiffUNet(PipelineFolder teacher, UNetReplacement student, UNetLayout layout, string unetDir)
    {
        Directory.CreateDirectory(unetDir);
        File.Copy(teacher.UNet.ConfigPath!, Path.Combine(unetDir, DiffusersExporter.ConfigFile));
        var text = File.ReadAllText(student.SpecPath);
        var spec = Specs.SpecFiles.Load(student.SpecPath);
        var yaml = spec.Base is null
            ? SpecWriter.Write(spec)                                                      // a standalone spec of the same structure
            : BaseLine().Replace(text, $"base: {DiffusersExporter.ConfigFile}", 1);             // the overlay, now over the copied config
        File.WriteAllText(Path.Combine(unetDir, PipelineFolder.PrunedUNetSpecFile), yaml);
        var header = SafetensorsFile.ReadHeader(student.WeightsPath);
        var entries = layout.LiveKeys.Select(k => header.Find(k.Name)!).ToList();
        SafetensorsFile.SaveSubset(Path.Combine(unetDir, DiffusersExporter.WeightsFile), header, entries, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private static List<RemovedUnit> RemovedUnits(UNetLayout layout)
    {
        var losses = layout.Spec.Provenance?.Losses.ToDictionary(u => u.Id, u => u.Loss, StringComparer.Ordinal) ?? [];
        var byId = layout.Components.ToDictionary(c => c.Id, StringComparer.Ordinal);
        return layout.Removed.Select(id => new RemovedUnit(id, byId[id].ParamCount, losses.TryGetValue(id, out var l) ? l : null)).ToList();
    }

    private static string Manifest(PipelineFolder teacher, UNetReplacement student, UNetLayout layout, PipelineExportResult result)
    {
        var provenance = layout.Spec.Provenance;
        var manifest = new Dictionary<string, object?>
        {
            ["format"] = ManifestFormat,
            ["teacher"] = new Dictionary<string, object?>
            {
                ["folder"] = teacher.Directory,
                ["class"] = teacher.ClassName,
                ["unet_params"] = result.TeacherParams,
                ["unet_structure_hash"] = SpecHash.Compute(teacher.ImportUNetSpec()),
            },
            ["student"] = new Dictionary<string, object?>
            {
                ["name"] = layout.Spec.Name,
                ["spec"] = Path.GetFullPath(student.SpecPath),
                ["weights"] = Path.GetFullPath(student.WeightsPath),
                ["weights_hash"] = FileDigest.Sha256(student.WeightsPath),
                ["unet_params"] = result.StudentParams,
            },
            ["unet"] = result.DiffusersUNet
                ? new Dictionary<string, object?> { ["format"] = "diffusers", ["files"] = new[] { DiffusersExporter.ConfigFile, DiffusersExporter.WeightsFile } }
                : new Dictionary<string, object?>
                {
                    ["format"] = "laptopdiff",
                    ["files"] = new[] { DiffusersExporter.ConfigFile, PipelineFolder.PrunedUNetSpecFile, DiffusersExporter.WeightsFile },
                    ["reason"] = result.Reason,
                },
            ["method"] = provenance?.Method,
            ["criterion"] = provenance?.Criterion,
            ["ratio"] = provenance?.Ratio,
            ["achieved_ratio"] = Math.Round((double)layout.RemovedParamCount / layout.BaseParamCount, 6),
            ["removed_params"] = layout.RemovedParamCount,
            ["removed"] = result.Removed.Select(u => new Dictionary<string, object?> { ["id"] = u.Id, ["params"] = u.Params, ["one_shot_loss"] = u.OneShotLoss }).ToList(),
        };
        return JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true });
    }

    [GeneratedRegex(@"^base:.*$", RegexOptions.Multiline)]
    private static partial Regex BaseLine();
}
