using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>
/// diffusers' <c>ResnetBlock2D</c> (default time-scale-shift, output scale 1, dropout 0):
/// <c>out = shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + time_emb_proj(silu(temb)))))</c>.
/// Field names are the state-dict keys; <c>conv_shortcut</c> exists only when channels change.
/// </summary>
public sealed class ResnetBlock2D : nn.Module<Tensor, Tensor, Tensor>
{
    // Declaration order = diffusers' registration order (norm1 conv1 time_emb_proj norm2 conv2 conv_shortcut).
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly Linear time_emb_proj;
    private readonly GroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;

    public ResnetBlock2D(int inChannels, int outChannels, int tembChannels, int groups, double eps)
        : base(nameof(ResnetBlock2D))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        norm1 = Ops.GroupNorm(groups, inChannels, eps);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        time_emb_proj = nn.Linear(tembChannels, outChannels);
        norm2 = Ops.GroupNorm(groups, outChannels, eps);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        if (inChannels != outChannels) conv_shortcut = nn.Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    /// <summary>Channels entering (for an up-stage block: hidden + skip, after the concat).</summary>
    public int InChannels { get; }
    public int OutChannels { get; }
    public GroupNorm Norm1 => norm1;
    public GroupNorm Norm2 => norm2;

    /// <summary>x [B,Cin,H,W], temb [B,T] (the raw time embedding) -> [B,Cout,H,W].</summary>
    public override Tensor forward(Tensor x, Tensor temb)
    {
        using var scope = NewDisposeScope();
        return ForwardActivated(x, nn.functional.silu(temb)).MoveToOuterDisposeScope();
    }

    /// <summary>As <see cref="forward"/> with <paramref name="tembAct"/> = silu(temb) computed once by the caller.</summary>
    public Tensor ForwardActivated(Tensor x, Tensor tembAct)
    {
        using var scope = NewDisposeScope();
        var h = Ops.Conv2d(conv1, Ops.SiluOwned(norm1.forward(x)));             // [B,Co,H,W]
        h.add_(time_emb_proj.forward(tembAct).unsqueeze(-1).unsqueeze(-1));      // + [B,Co,1,1]
        h = Ops.Conv2d(conv2, Ops.SiluOwned(norm2.forward(h)));                  // [B,Co,H,W]
        h.add_(conv_shortcut is null ? x : Ops.Conv2d(conv_shortcut, x));        // residual
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Up-stage form: the input is <c>cat(h, skip)</c> along channels.</summary>
    public Tensor ForwardWithSkip(Tensor h, Tensor skip, Tensor tembAct)
    {
        using var scope = NewDisposeScope();
        var x = cat(new[] { h, skip }, 1);                                       // [B,Ch+Cs,H,W]
        return ForwardActivated(x, tembAct).MoveToOuterDisposeScope();
    }
}
