using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>diffusers' <c>GEGLU</c>: <c>proj</c> to 2 x inner, split in (hidden, gate), hidden * gelu(gate) with exact (erf) GELU.</summary>
public sealed class GEGLU : nn.Module<Tensor, Tensor>
{
    private readonly Linear proj;

    public GEGLU(int dim, int inner) : base(nameof(GEGLU))
    {
        proj = nn.Linear(dim, 2 * inner);
        RegisterComponents();
    }

    /// <summary>[B,N,C] -> [B,N,inner].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var parts = proj.forward(x).chunk(2, -1);                                 // 2 x [B,N,inner]
        var gate = nn.functional.gelu(parts[1]);                                  // exact erf GELU, not tanh
        var result = is_grad_enabled() ? parts[0] * gate : parts[0].mul_(gate);
        return result.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// diffusers' <c>FeedForward</c> (GEGLU, mult 4, dropout 0): <c>net = [GEGLU, Dropout, Linear]</c>, so the
/// keys are <c>ff.net.0.proj</c> and <c>ff.net.2</c>.
/// </summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> net;

    public FeedForward(int dim, int mult = 4) : base(nameof(FeedForward))
    {
        int inner = dim * mult;
        net = new ModuleList<nn.Module<Tensor, Tensor>>(new GEGLU(dim, inner), nn.Dropout(0.0), nn.Linear(inner, dim));
        RegisterComponents();
    }

    /// <summary>[B,N,C] -> [B,N,C].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return net[2].forward(net[0].forward(x)).MoveToOuterDisposeScope();
    }
}
