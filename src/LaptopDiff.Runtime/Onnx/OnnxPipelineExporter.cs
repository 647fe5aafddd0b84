using System.Security.Cryptography;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>A U-Net that replaces a pipeline's own in its export: a (pruned) layout whose full structure is the pipeline's U-Net, and its weights.</summary>
public sealed record OnnxStudentUNet(UNetLayout Layout, SafetensorsSet Weights);

/// <summary>One model of a pipeline export: its folder name (<c>unet</c>, <c>vae_decoder</c>, ...) and what was written.</summary>
public sealed record OnnxComponentReport(string Component, OnnxExportReport Report);

/// <summary>
/// A diffusers pipeline folder as the ONNX pipeline folder Optimum writes and diffusers' and Optimum's ONNX pipelines
/// (and .NET ones that follow them) read: <c>unet/model.onnx</c>, <c>text_encoder/model.onnx</c> (and
/// <c>text_encoder_2/</c> for SDXL), <c>vae_decoder/model.onnx</c>, <c>vae_encoder/model.onnx</c>, each beside the
/// <c>config.json</c> of the model it came from (the VAE's in both halves), plus the folder's <c>model_index.json</c>,
/// <c>scheduler/</c> and tokenizers copied as they are. The folder is assembled beside the output and moved into place,
/// so a failure leaves nothing; an existing output is replaced only when it is such an export itself.
/// </summary>
public static class OnnxPipelineExporter
{
    public const string ModelFile = "model.onnx";

    public static IReadOnlyList<OnnxComponentReport> Export(PipelineFolder folder, string output, OnnxExportOptions? options = null,
        OnnxStudentUNet? student = null)
    {
        options ??= new OnnxExportOptions();
        var target = Path.GetFullPath(output);
        CheckReplaceable(target);
        var (layout, weights) = student is null ? (folder.BuildUNetLayout(), folder.UNet.Weights!.Require()) : CheckStudent(folder, student);
        WeightReport.Compare(layout.LiveKeys, weights).ThrowIfMismatched();

        using var unetSource = new SafetensorsWeightSource(weights);
        var models = new List<IDisposable>();
        try
        {
            // every graph is built and checked against the opset before anything is written
            var exports = new List<(string Component, PreparedExport Export, string ConfigPath)>
            {
                ("unet", OnnxExporter.PrepareUNet(layout, unetSource, options), folder.UNet.ConfigPath!),
            };
            foreach (var encoder in new[] { folder.TextEncoder, folder.TextEncoder2 }.OfType<PipelineComponent>())
            {
                var model = ClipTextModel.Load(encoder.ConfigPath!, SingleFile(encoder), encoder.Kind == Pipelines.ComponentKind.TextEncoderWithProjection);
                models.Add(model);
                exports.Add((encoder.Name, OnnxExporter.PrepareClipText(model, options), encoder.ConfigPath!));
            }
            var vae = AutoencoderKL.Load(folder.Vae.ConfigPath!, SingleFile(folder.Vae));
            models.Add(vae);
            exports.Add(("vae_decoder", OnnxExporter.PrepareVaeDecoder(vae, options), folder.Vae.ConfigPath!));
            exports.Add(("vae_encoder", OnnxExporter.PrepareVaeEncoder(vae, options), folder.Vae.ConfigPath!));

            var staging = $"{target}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
            try
            {
                var reports = new List<OnnxComponentReport>();
                foreach (var (component, export, config) in exports)
                {
                    var dir = Directory.CreateDirectory(Path.Combine(staging, component)).FullName;
                    File.Copy(config, Path.Combine(dir, "config.json"));
                    reports.Add(new OnnxComponentReport(component, export.Write(Path.Combine(dir, ModelFile))));
                }
                File.Copy(folder.ModelIndexPath, Path.Combine(staging, Path.GetFileName(folder.ModelIndexPath)));
                foreach (var copied in new[] { folder.Scheduler, folder.Tokenizer, folder.Tokenizer2 }.OfType<PipelineComponent>())
                    CopyTree(copied.Folder, Path.Combine(staging, copied.Name));
                MoveIntoPlace(staging, target);
                return reports.Select(r => r with { Report = Relocated(r.Report, staging, target) }).ToList();
            }
            catch
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                throw;
            }
        }
        finally
        {
            foreach (var model in models) model.Dispose();
        }
    }

    /// <summary>The student's full structure (removals undone) must be the pipeline U-Net's, tensor for tensor.</summary>
    private static (UNetLayout, SafetensorsSet) CheckStudent(PipelineFolder folder, OnnxStudentUNet student)
    {
        var teacher = folder.BuildUNetLayout();
        var full = LayoutBuilder.BuildOrThrow(student.Layout.Spec with { Removed = EquatableArray<string>.Empty }, student.Layout.Spec.Name);
        var expected = teacher.StateDictKeys.ToList();
        var found = full.StateDictKeys.ToList();
        var differ = expected.Zip(found).FirstOrDefault(p => p.First != p.Second);
        if (expected.Count != found.Count || differ != default)
        {
            var where = differ != default ? $"first difference: {differ.First} against {differ.Second}" : $"{found.Count} tensors against {expected.Count}";
            throw new PipelineException($"U-Net spec {student.Layout.Spec.Name} is not a pruning of the pipeline's U-Net ({folder.UNet.ConfigPath}): " +
                                        $"its unpruned structure differs ({where}). Prune from the pipeline's unet/config.json or a spec of the same structure.");
        }
        return (student.Layout, student.Weights);
    }

    private static string SingleFile(PipelineComponent component)
    {
        var weights = component.Weights!.Require();
        if (weights.IsSharded)
            throw new PipelineException($"component '{component.Name}' has sharded weights ({weights.Path}); the ONNX export reads a single weights file for it.");
        return weights.Path;
    }

    /// <summary>The output may not exist, be empty, or be an earlier ONNX pipeline export; anything else is left alone.</summary>
    private static void CheckReplaceable(string target)
    {
        if (File.Exists(target)) throw new InputException($"'{target}' is a file; a pipeline exports to a folder.", "OutputPath");
        if (!Directory.Exists(target) || !Directory.EnumerateFileSystemEntries(target).Any()) return;
        if (!(File.Exists(Path.Combine(target, "model_index.json")) && File.Exists(Path.Combine(target, "unet", ModelFile))))
            throw new InputException($"'{target}' exists and is not an ONNX pipeline export (no model_index.json and unet/{ModelFile}); " +
                                     "choose an empty or new folder.", "OutputPath");
    }

    private static void MoveIntoPlace(string staging, string target)
    {
        string? old = null;
        if (Directory.Exists(target))
        {
            old = $"{target}.old-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
            Directory.Move(target, old);
        }
        Directory.Move(staging, target);
        if (old is not null) Directory.Delete(old, recursive: true);
    }

    private static OnnxExportReport Relocated(OnnxExportReport report, string from, string to) => report with
    {
        Path = to + report.Path[from.Length..],
        DataPath = report.DataPath is { } data ? to + data[from.Length..] : null,
    };

    private static void CopyTree(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(source)) CopyTree(dir, Path.Combine(target, Path.GetFileName(dir)));
    }
}
