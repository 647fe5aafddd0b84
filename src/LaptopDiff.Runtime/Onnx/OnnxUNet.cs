using LaptopDiff.Runtime.Execution;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>
/// An exported U-Net (<c>export-onnx</c>, or any graph with diffusers' ONNX inputs) run by ONNX Runtime in the role of
/// <see cref="UNet2DCondition"/>: the same <see cref="UNetInputs"/> in (the timestep as a scalar, [1] or [B], any numeric
/// type), the prediction out as float32 whatever the graph computes in. Masks and stage features do not exist here:
/// a pruned model is exported pruned.
/// </summary>
public sealed class OnnxUNet : IUNetRunner, IDisposable
{
    private readonly OnnxSession _session;
    private readonly string? _ownedFolder;

    private OnnxUNet(OnnxSession session, string? ownedFolder = null)
    {
        _session = session;
        _ownedFolder = ownedFolder;
        foreach (var required in new[] { UNetOnnxGraph.Sample, UNetOnnxGraph.Timestep, UNetOnnxGraph.EncoderHiddenStates })
            if (!session.Inputs.ContainsKey(required))
                throw new Inputs.InputException($"'{session.Path}' is not a U-Net graph: it has no input '{required}' (it has {string.Join(", ", session.Inputs.Keys)}).");
        if (!session.Outputs.Contains(UNetOnnxGraph.OutSample))
            throw new Inputs.InputException($"'{session.Path}' is not a U-Net graph: it has no output '{UNetOnnxGraph.OutSample}'.");
        HasTextTime = session.Inputs.ContainsKey(UNetOnnxGraph.TextEmbeds);
    }

    public string Path => _session.Path;
    /// <summary>Whether the graph takes SDXL's <c>text_embeds</c> and <c>time_ids</c>.</summary>
    public bool HasTextTime { get; }
    /// <summary>The element type the graph computes in (float32 or float16).</summary>
    public ScalarType ComputeType => _session.Inputs[UNetOnnxGraph.Sample];

    public static OnnxUNet Open(string path, OnnxSessionOptions? options = null)
    {
        var session = OnnxSession.Open(path, options);
        try { return new OnnxUNet(session); }
        catch { session.Dispose(); throw; }
    }

    /// <summary>
    /// A loaded TorchSharp U-Net (teacher, student, random weights) exported to a temporary folder, removed again on
    /// <see cref="Dispose"/>, and opened: the same function in ONNX Runtime, e.g. for sampling or a benchmark.
    /// </summary>
    public static OnnxUNet FromModel(UNet2DCondition model, OnnxSessionOptions? options = null, OnnxExportOptions? export = null)
    {
        var folder = Directory.CreateTempSubdirectory("laptopdiff-onnx-unet-").FullName;
        OnnxSession? session = null;
        try
        {
            var path = System.IO.Path.Combine(folder, "unet.onnx");
            OnnxExporter.ExportUNet(model.Layout, new ModuleWeightSource(model), path, export);
            session = OnnxSession.Open(path, options);
            return new OnnxUNet(session, folder);
        }
        catch
        {
            session?.Dispose();
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public UNetOutput Forward(UNetInputs inputs)
    {
        using var scope = NewDisposeScope();
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            [UNetOnnxGraph.Sample] = inputs.Sample,
            [UNetOnnxGraph.Timestep] = inputs.Timestep.reshape(-1),                        // scalar -> [1]
            [UNetOnnxGraph.EncoderHiddenStates] = inputs.EncoderHiddenStates,
        };
        if (HasTextTime)
        {
            feeds[UNetOnnxGraph.TextEmbeds] = inputs.TextEmbeds ?? throw new ArgumentException("this model has a text_time addition embedding: UNetInputs.TextEmbeds is required", nameof(inputs));
            feeds[UNetOnnxGraph.TimeIds] = inputs.TimeIds ?? throw new ArgumentException("this model has a text_time addition embedding: UNetInputs.TimeIds is required", nameof(inputs));
        }
        var output = _session.Run(feeds, UNetOnnxGraph.OutSample)[0];
        return new UNetOutput(output.to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        _session.Dispose();
        if (_ownedFolder is not null && Directory.Exists(_ownedFolder)) Directory.Delete(_ownedFolder, recursive: true);
    }
}
