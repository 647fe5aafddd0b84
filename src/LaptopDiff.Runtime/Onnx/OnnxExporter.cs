using System.Globalization;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>
/// Writes models as ONNX files built from their structure (a U-Net from its layout, CLIP and the VAE from their
/// configs), no tracing: each graph is assembled node by node from the same description the TorchSharp modules are
/// built from. The opset is checked against what the graph needs before any weight is read or anything written.
/// </summary>
public static class OnnxExporter
{
    /// <summary>
    /// A U-Net (full or pruned) from its weights: the files must hold exactly the model's tensors (its
    /// <see cref="UNetLayout.LiveKeys"/>, by name and shape), checked from the headers first.
    /// </summary>
    /// <exception cref="WeightsException">Missing, unexpected or mis-shaped tensors.</exception>
    public static OnnxExportReport ExportUNet(UNetLayout layout, SafetensorsSet weights, string path, OnnxExportOptions? options = null)
    {
        WeightReport.Compare(layout.LiveKeys, weights).ThrowIfMismatched();
        using var source = new SafetensorsWeightSource(weights);
        return ExportUNet(layout, source, path, options);
    }

    /// <summary>A U-Net from any weight source that has its live keys (e.g. a teacher's file for a pruned student, a loaded module).</summary>
    public static OnnxExportReport ExportUNet(UNetLayout layout, IOnnxWeightSource weights, string path, OnnxExportOptions? options = null) =>
        PrepareUNet(layout, weights, options ?? new()).Write(path);

    /// <summary>A CLIP text encoder (with or without projection) with the weights it holds.</summary>
    public static OnnxExportReport ExportClipText(ClipTextModel model, string path, OnnxExportOptions? options = null) =>
        PrepareClipText(model, options ?? new()).Write(path);

    /// <summary>The VAE's decoder half: raw latents to images (see <c>VaeOnnxGraph</c>).</summary>
    public static OnnxExportReport ExportVaeDecoder(AutoencoderKL vae, string path, OnnxExportOptions? options = null) =>
        PrepareVaeDecoder(vae, options ?? new()).Write(path);

    /// <summary>The VAE's encoder half: images to the latent distribution's moments (see <c>VaeOnnxGraph</c>).</summary>
    public static OnnxExportReport ExportVaeEncoder(AutoencoderKL vae, string path, OnnxExportOptions? options = null) =>
        PrepareVaeEncoder(vae, options ?? new()).Write(path);

    internal static PreparedExport PrepareUNet(UNetLayout layout, IOnnxWeightSource weights, OnnxExportOptions options)
    {
        var spec = layout.Spec;
        var metadata = new Dictionary<string, string>
        {
            ["laptop_diff.model"] = "unet",
            ["laptop_diff.spec"] = spec.Name,
            ["laptop_diff.structure"] = SpecHash.Compute(spec),
            ["laptop_diff.params"] = layout.TotalParamCount.ToString(CultureInfo.InvariantCulture),
            ["laptop_diff.removed"] = string.Join(",", layout.Removed),
        };
        var removed = layout.Removed.Count == 0 ? "" : $", {layout.Removed.Count} units removed ({string.Join(", ", layout.Removed)})";
        return Prepare(UNetOnnxGraph.Build(layout, weights, options.Precision), $"U-Net {spec.Name}", options,
            $"U-Net {spec.Name} exported by LaptopDiff: {layout.TotalParamCount:N0} parameters{removed}.", metadata);
    }

    internal static PreparedExport PrepareClipText(ClipTextModel model, OnnxExportOptions options)
    {
        var graph = ClipTextOnnxGraph.Build(model.Config, new ModuleWeightSource(model), options.Precision);
        return Prepare(graph, "the CLIP text encoder", options, $"{graph.Proto.Name} exported by LaptopDiff.", Metadata("text_encoder"));
    }

    internal static PreparedExport PrepareVaeDecoder(AutoencoderKL vae, OnnxExportOptions options) =>
        Prepare(VaeOnnxGraph.BuildDecoder(vae.Config, new ModuleWeightSource(vae), options.Precision), "the VAE decoder", options,
            "AutoencoderKL decoder exported by LaptopDiff.", Metadata("vae_decoder"));

    internal static PreparedExport PrepareVaeEncoder(AutoencoderKL vae, OnnxExportOptions options) =>
        Prepare(VaeOnnxGraph.BuildEncoder(vae.Config, new ModuleWeightSource(vae), options.Precision), "the VAE encoder", options,
            "AutoencoderKL encoder exported by LaptopDiff.", Metadata("vae_encoder"));

    private static PreparedExport Prepare(OnnxGraph graph, string what, OnnxExportOptions options, string description, Dictionary<string, string> metadata)
    {
        graph.CheckOpset(options.Opset, what);
        return new PreparedExport(graph, options, description, metadata);
    }

    private static Dictionary<string, string> Metadata(string model) => new() { ["laptop_diff.model"] = model };
}

/// <summary>A graph built and checked against the opset, not yet written (its weights are read when it is).</summary>
internal sealed record PreparedExport(OnnxGraph Graph, OnnxExportOptions Options, string Description, IReadOnlyDictionary<string, string> Metadata)
{
    public OnnxExportReport Write(string path) => OnnxModelWriter.Write(Graph, path, Options, Description, Metadata);
}
