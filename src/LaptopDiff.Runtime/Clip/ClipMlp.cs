using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>transformers' <c>CLIPMLP</c>: <c>fc1</c>, the configured activation, <c>fc2</c>.</summary>
public sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly ClipActivation _activation;

    public ClipMlp(int hidden, int intermediate, ClipActivation activation) : base(nameof(ClipMlp))
    {
        _activation = activation;
        fc1 = nn.Linear(hidden, intermediate);
        fc2 = nn.Linear(intermediate, hidden);
        RegisterComponents();
    }

    /// <summary>[B,N,C] -> [B,N,C].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(_activation.Apply(fc1.forward(x))).MoveToOuterDisposeScope();
    }
}
