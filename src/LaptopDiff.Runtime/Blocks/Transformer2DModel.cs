using LaptopDiff.Spec;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Blocks;

/// <summary>
/// diffusers' <c>Transformer2DModel</c> for continuous input: GroupNorm (eps 1e-6), <c>proj_in</c>, the
/// <c>transformer_blocks</c>, <c>proj_out</c>, plus the input as residual. The projections are 1x1
/// convolutions (SD-1.5) or linears (SDXL); both are applied as one matmul over the token layout.
/// Blocks of a pruned model are absent (holes keep their original index in the key).
/// The execution plan drives the three phases (<see cref="Enter"/>, each of <see cref="TransformerBlocks"/>,
/// <see cref="Exit"/>) separately when each block is a pruning unit.
/// </summary>
public sealed class Transformer2DModel : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly GroupNorm norm;
    private readonly nn.Module<Tensor, Tensor> proj_in;
    private readonly ModuleDict<BasicTransformerBlock> transformer_blocks;
    private readonly nn.Module<Tensor, Tensor> proj_out;

    /// <param name="presentBlocks">Indices of the blocks that exist (all of 0..depth-1 for an unpruned model).</param>
    public Transformer2DModel(int channels, int heads, int depth, IEnumerable<int> presentBlocks, int crossAttentionDim,
        int groups, NormSpec norms, AttentionProjection projection) : base(nameof(Transformer2DModel))
    {
        Channels = channels;
        Depth = depth;
        Projection = projection;
        norm = Ops.GroupNorm(groups, channels, norms.TransformerEps);
        proj_in = MakeProjection(channels, projection);
        transformer_blocks = new ModuleDict<BasicTransformerBlock>();
        var blocks = new SortedDictionary<int, BasicTransformerBlock>();
        foreach (var k in presentBlocks.OrderBy(k => k))
        {
            if (k < 0 || k >= depth) throw new ArgumentOutOfRangeException(nameof(presentBlocks), $"block {k} is outside 0..{depth - 1}");
            blocks[k] = new BasicTransformerBlock(channels, heads, crossAttentionDim, norms.LayerNormEps);
            transformer_blocks.Add((k.ToString(System.Globalization.CultureInfo.InvariantCulture), blocks[k]));
        }
        proj_out = MakeProjection(channels, projection);
        RegisterComponents();
        TransformerBlocks = blocks;
    }

    public int Channels { get; }
    public int Depth { get; }
    public AttentionProjection Projection { get; }
    public GroupNorm Norm => norm;

    /// <summary><c>transformer_blocks.N</c> by index; a removed block's index is absent.</summary>
    public IReadOnlyDictionary<int, BasicTransformerBlock> TransformerBlocks { get; }

    /// <summary>x [B,C,H,W], context [B,M,Cx] -> [B,C,H,W], running every present block.</summary>
    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        var tokens = Enter(x);
        foreach (var block in TransformerBlocks.Values) tokens = block.forward(tokens, context);   // in index order
        return Exit(tokens, x).MoveToOuterDisposeScope();
    }

    /// <summary>norm, to tokens, proj_in: x [B,C,H,W] -> [B,HW,C].</summary>
    public Tensor Enter(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var n = norm.forward(x);                                                  // [B,C,H,W]
        var tokens = n.permute(0, 2, 3, 1).reshape(b, h * w, c);                  // [B,HW,C]
        return Project(proj_in, tokens).MoveToOuterDisposeScope();                // [B,HW,C]
    }

    /// <summary>proj_out, back to [B,C,H,W], plus the residual (the transformer's input).</summary>
    public Tensor Exit(Tensor tokens, Tensor residual)
    {
        using var scope = NewDisposeScope();
        long b = residual.shape[0], c = residual.shape[1], h = residual.shape[2], w = residual.shape[3];
        var o = Project(proj_out, tokens);                                        // [B,HW,C]
        o = o.view(b, h, w, c).permute(0, 3, 1, 2);                               // [B,C,H,W] (strided view)
        return residual.add(o).MoveToOuterDisposeScope();                         // contiguous like the residual
    }

    private static nn.Module<Tensor, Tensor> MakeProjection(int c, AttentionProjection projection) =>
        projection == AttentionProjection.Linear ? nn.Linear(c, c) : nn.Conv2d(c, c, 1);

    // A 1x1 convolution over [B,C,H,W] equals a linear map over [B,HW,C]: apply it as one matmul.
    private static Tensor Project(nn.Module<Tensor, Tensor> projection, Tensor tokens) => projection switch
    {
        Linear linear => linear.forward(tokens),
        Conv2d conv => nn.functional.linear(tokens, conv.weight!.flatten(1), conv.bias),     // weight [C,C,1,1] -> [C,C]
        _ => throw new InvalidOperationException($"unexpected projection {projection.GetType().Name}"),
    };
}
