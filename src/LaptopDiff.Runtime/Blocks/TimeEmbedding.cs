using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>
/// diffusers' <c>Timesteps</c> (sinusoidal projection, no parameters), computed in float32 exactly as
/// diffusers does: <c>exponent = -ln(10000) * arange(half) / (half - freq_shift)</c>,
/// <c>emb = t[:,None] * exp(exponent)[None]</c>, <c>[sin, cos]</c>, flipped to <c>[cos, sin]</c>.
/// </summary>
public sealed class Timesteps : nn.Module<Tensor, Tensor>
{
    public Timesteps(int dim, bool flipSinToCos, int freqShift) : base(nameof(Timesteps))
    {
        if (dim < 2) throw new ArgumentOutOfRangeException(nameof(dim), $"the sinusoidal width must be at least 2, got {dim}");
        Dim = dim;
        FlipSinToCos = flipSinToCos;
        FreqShift = freqShift;
    }

    public int Dim { get; }
    public bool FlipSinToCos { get; }
    public int FreqShift { get; }

    /// <summary>t [N] (any numeric dtype) -> [N,Dim] float32.</summary>
    public override Tensor forward(Tensor t)
    {
        using var scope = NewDisposeScope();
        var freqs = Frequencies(Dim, FreqShift, t.device);                                             // [half]
        var args = t.to_type(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);                    // [N,half]
        var sin = args.sin();
        var cos = args.cos();
        var emb = FlipSinToCos ? cat(new[] { cos, sin }, -1) : cat(new[] { sin, cos }, -1);           // [N,2*half]
        if (Dim % 2 == 1) emb = nn.functional.pad(emb, new long[] { 0, 1 });                          // odd width: zero column
        return emb.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>exp(-ln(10000) * arange(half) / (half - freq_shift))</c> in float32, [dim/2]: the angular frequencies each
    /// timestep is multiplied by (also what the ONNX export stores, so both runtimes use the same constants).
    /// </summary>
    public static Tensor Frequencies(int dim, int freqShift, Device? device = null)
    {
        using var scope = NewDisposeScope();
        int half = dim / 2;
        var exponent = arange(0, half, dtype: ScalarType.Float32, device: device) * -Math.Log(10000.0);   // [half]
        exponent = exponent / (double)(half - freqShift);
        return exponent.exp().MoveToOuterDisposeScope();
    }
}

/// <summary>diffusers' <c>TimestepEmbedding</c>: <c>linear_2(silu(linear_1(x)))</c>.</summary>
public sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear_1;
    private readonly Linear linear_2;

    public TimestepEmbedding(int inChannels, int timeEmbedDim) : base(nameof(TimestepEmbedding))
    {
        linear_1 = nn.Linear(inChannels, timeEmbedDim);
        linear_2 = nn.Linear(timeEmbedDim, timeEmbedDim);
        RegisterComponents();
    }

    /// <summary>[B,in] -> [B,T].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return linear_2.forward(Ops.SiluOwned(linear_1.forward(x))).MoveToOuterDisposeScope();
    }
}
