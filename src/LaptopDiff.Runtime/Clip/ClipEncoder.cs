using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>transformers' <c>CLIPEncoder</c>: the numbered <c>layers</c> of a tower, run in order.</summary>
public sealed class ClipEncoder : nn.Module<Tensor, bool, IReadOnlyList<Tensor>>
{
    private readonly ModuleList<ClipEncoderLayer> layers;

    public ClipEncoder(int count, int hidden, int intermediate, int heads, ClipActivation activation, double eps) : base(nameof(ClipEncoder))
    {
        layers = new ModuleList<ClipEncoderLayer>(
            Enumerable.Range(0, count).Select(_ => new ClipEncoderLayer(hidden, intermediate, heads, activation, eps)).ToArray());
        RegisterComponents();
    }

    public int LayerCount => layers.Count;

    /// <summary>
    /// Every hidden state, as transformers' <c>hidden_states</c>: [0] is the input, [i] the output of layer i,
    /// each [B,N,C]. The returned tensors belong to the caller (the input is aliased, not copied).
    /// </summary>
    public override IReadOnlyList<Tensor> forward(Tensor x, bool causal)
    {
        var states = new List<Tensor>(layers.Count + 1) { x.alias() };
        foreach (var layer in layers) states.Add(layer.forward(states[^1], causal));
        return states;
    }
}
