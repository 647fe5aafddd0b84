using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Execution;

/// <summary>
/// Inputs of one U-Net forward. <paramref name="Timestep"/> is int64 or floating, shape [B], [1] or a
/// scalar (broadcast to the batch). <paramref name="TextEmbeds"/> [B,P] and <paramref name="TimeIds"/>
/// [B,6] are SDXL's text_time conditioning and required exactly when the model has an addition embedding.
/// The caller owns these tensors.
/// </summary>
/// <param name="Sample">Noisy latent [B,Cin,H,W].</param>
/// <param name="EncoderHiddenStates">Text encoder states [B,T,cross_attention_dim].</param>
public sealed record UNetInputs(Tensor Sample, Tensor Timestep, Tensor EncoderHiddenStates, Tensor? TextEmbeds = null, Tensor? TimeIds = null)
{
    /// <summary>These inputs on <paramref name="device"/> (a model's, <see cref="UNet2DCondition.Device"/>): new handles in the caller's dispose scope.</summary>
    public UNetInputs To(Device device) =>
        new(Sample.to(device), Timestep.to(device), EncoderHiddenStates.to(device), TextEmbeds?.to(device), TimeIds?.to(device));

    /// <summary>Every tensor these inputs hold (the optional ones when present).</summary>
    public IEnumerable<Tensor> All() =>
        new[] { Sample, Timestep, EncoderHiddenStates, TextEmbeds, TimeIds }.OfType<Tensor>();
}

/// <summary>
/// Result of a forward: the prediction (eps) [B,Cout,H,W] and, when asked for, the stage-end features
/// keyed by stage label (<c>down.0</c> ... <c>mid</c> ... <c>up.N</c>, see
/// <see cref="LaptopDiff.Spec.UNetLayout.FeatureStages"/>). Every tensor is the caller's to dispose.
/// </summary>
public sealed record UNetOutput(Tensor Sample, IReadOnlyDictionary<string, Tensor>? Features = null) : IDisposable
{
    public void Dispose()
    {
        Sample.Dispose();
        if (Features != null)
            foreach (var f in Features.Values) f.Dispose();
    }
}
