using LaptopDiff.Runtime.Blocks;
using static TorchSharp.torch;
using DataType = LaptopDiff.Runtime.Onnx.Proto.TensorProto.Types.DataType;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>The key prefixes of one attention's projections (diffusers: <c>to_q</c> ... <c>to_out.0</c>; CLIP: <c>q_proj</c> ... <c>out_proj</c>).</summary>
internal sealed record AttentionKeys(string Scope, string Query, string Key, string Value, string Out)
{
    public static AttentionKeys Diffusers(string prefix) => new(prefix, $"{prefix}.to_q", $"{prefix}.to_k", $"{prefix}.to_v", $"{prefix}.to_out.0");
    public static AttentionKeys Clip(string prefix) => new(prefix, $"{prefix}.q_proj", $"{prefix}.k_proj", $"{prefix}.v_proj", $"{prefix}.out_proj");
}

/// <summary>
/// The layers the U-Net, CLIP and VAE graphs share, each as the ONNX nodes that compute what the TorchSharp block
/// computes, with weights under the block's state-dict keys. Shape comments: B batch, N tokens, C channels.
/// </summary>
internal static class OnnxLayers
{
    /// <summary><c>x W^T + b</c>: [.., in] -> [.., out] (the weight is stored transposed).</summary>
    public static string Linear(this OnnxGraph g, string x, string prefix, bool bias = true)
    {
        var y = g.Op("MatMul", prefix, [x, g.WeightTransposed($"{prefix}.weight")]);
        return bias ? g.Op("Add", prefix, [y, g.Weight($"{prefix}.bias")]) : y;
    }

    /// <summary>
    /// A 2-D convolution with its kernel's "same" padding, or <paramref name="pads"/> (top, left, bottom, right; the
    /// VAE's downsampler pads only the bottom and right).
    /// </summary>
    public static string Conv(this OnnxGraph g, string x, string prefix, int stride = 1, long[]? pads = null)
    {
        var shape = g.ShapeOf($"{prefix}.weight");                                   // [Cout,Cin,k,k]
        long k = shape[2], p = k / 2;
        return g.Op("Conv", prefix, [x, g.Weight($"{prefix}.weight"), g.Weight($"{prefix}.bias")],
            OnnxGraph.Attr("kernel_shape", shape[2], shape[3]),
            OnnxGraph.Attr("strides", stride, stride),
            OnnxGraph.Attr("pads", pads ?? [p, p, p, p]));
    }

    /// <summary>
    /// torch's GroupNorm: InstanceNormalization over [B, G, C/G*H*W] normalises each group of each sample (its mean
    /// and variance over the group's channels and pixels), then the per-channel affine. [B,C,H,W] -> [B,C,H,W].
    /// </summary>
    public static string GroupNorm(this OnnxGraph g, string x, string prefix, int groups, double eps)
    {
        long channels = g.ShapeOf($"{prefix}.weight")[0];
        var grouped = g.Op("Reshape", prefix, [x, g.Int64s(0, groups, -1)]);       // [B,G,C/G*H*W]
        var ones = g.Floats(g.Compute, [groups], Enumerable.Repeat(1f, groups).ToArray());
        var zeros = g.Floats(g.Compute, [groups], new float[groups]);
        var normed = g.Op("InstanceNormalization", prefix, [grouped, ones, zeros], OnnxGraph.Attr("epsilon", (float)eps));
        var back = g.Op("Reshape", prefix, [normed, g.Op("Shape", prefix, [x])]);  // [B,C,H,W]
        var scaled = g.Op("Mul", prefix, [back, g.Weight($"{prefix}.weight", [channels, 1, 1])]);
        return g.Op("Add", prefix, [scaled, g.Weight($"{prefix}.bias", [channels, 1, 1])]);
    }

    /// <summary>LayerNorm over the last dimension.</summary>
    public static string LayerNorm(this OnnxGraph g, string x, string prefix, double eps) =>
        g.Op("LayerNormalization", prefix, [x, g.Weight($"{prefix}.weight"), g.Weight($"{prefix}.bias")],
            OnnxGraph.Attr("axis", -1L), OnnxGraph.Attr("epsilon", (float)eps));

    /// <summary>SiLU: x * sigmoid(x).</summary>
    public static string Silu(this OnnxGraph g, string x, string scope) => g.Op("Mul", scope, [x, g.Op("Sigmoid", scope, [x])]);

    /// <summary>Exact (erf) GELU: 0.5 x (1 + erf(x / sqrt 2)), the form ONNX Runtime fuses into one kernel.</summary>
    public static string Gelu(this OnnxGraph g, string x, string scope)
    {
        var erf = g.Op("Erf", scope, [g.Op("Div", scope, [x, g.Scalar(MathF.Sqrt(2f))])]);
        var y = g.Op("Mul", scope, [x, g.Op("Add", scope, [erf, g.Scalar(1f)])]);
        return g.Op("Mul", scope, [y, g.Scalar(0.5f)]);
    }

    /// <summary>CLIP's quick_gelu: x * sigmoid(1.702 x).</summary>
    public static string QuickGelu(this OnnxGraph g, string x, string scope) =>
        g.Op("Mul", scope, [x, g.Op("Sigmoid", scope, [g.Op("Mul", scope, [x, g.Scalar(1.702f)])])]);

    /// <summary>
    /// diffusers' <c>ResnetBlock2D</c>: <c>shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + time_emb_proj(temb))))</c>;
    /// <paramref name="tembAct"/> is silu(temb) [B,T], or null for the VAE's blocks (no time embedding). The 1x1
    /// <c>conv_shortcut</c> exists when the channels change.
    /// </summary>
    public static string Resnet(this OnnxGraph g, string x, string prefix, int groups, double eps, string? tembAct, bool hasShortcut)
    {
        var h = g.Conv(g.Silu(g.GroupNorm(x, $"{prefix}.norm1", groups, eps), prefix), $"{prefix}.conv1");          // [B,Co,H,W]
        if (tembAct is not null)
            h = g.Op("Add", prefix, [h, g.Op("Unsqueeze", prefix, [g.Linear(tembAct, $"{prefix}.time_emb_proj"), g.Int64s(2, 3)])]);   // + [B,Co,1,1]
        h = g.Conv(g.Silu(g.GroupNorm(h, $"{prefix}.norm2", groups, eps), prefix), $"{prefix}.conv2");
        return g.Op("Add", prefix, [hasShortcut ? g.Conv(x, $"{prefix}.conv_shortcut") : x, h]);
    }

    /// <summary>
    /// Nearest-neighbour upsampling (torch's legacy "nearest": source index floor(i * in / out)) to twice the size, or to
    /// the spatial size of <paramref name="sizeOf"/> (diffusers passes the next skip's size), then the 3x3 <c>conv</c>.
    /// </summary>
    public static string Upsample(this OnnxGraph g, string x, string prefix, string? sizeOf)
    {
        var attributes = new[]
        {
            OnnxGraph.Attr("mode", "nearest"), OnnxGraph.Attr("coordinate_transformation_mode", "asymmetric"), OnnxGraph.Attr("nearest_mode", "floor"),
        };
        string up;
        if (sizeOf is null)
            up = g.Op("Resize", prefix, [x, "", g.Floats(DataType.Float, [4], [1f, 1f, 2f, 2f])], attributes);
        else
        {
            var batchChannels = g.Op("Slice", prefix, [g.Op("Shape", prefix, [x]), g.Int64s(0), g.Int64s(2)]);          // [B,C]
            var size = g.Op("Slice", prefix, [g.Op("Shape", prefix, [sizeOf]), g.Int64s(2), g.Int64s(4)]);              // [H',W']
            up = g.Op("Resize", prefix, [x, "", "", g.Op("Concat", prefix, [batchChannels, size], OnnxGraph.Attr("axis", 0L))], attributes);
        }
        return g.Conv(up, $"{prefix}.conv");                                                                             // [B,C,H',W']
    }

    /// <summary>
    /// Multi-head scaled dot-product attention with its projections: x [B,N,C] attends to <paramref name="context"/>
    /// [B,M,Cx] (null: to itself); <paramref name="mask"/> [N,N] is added to the scores (CLIP's causal mask).
    /// </summary>
    public static string Attention(this OnnxGraph g, string x, string? context, AttentionKeys keys, int heads, bool projectionBias,
        string? mask = null)
    {
        long channels = g.ShapeOf($"{keys.Query}.weight")[0];
        long d = channels / heads;
        var ctx = context ?? x;
        var q = g.Linear(x, keys.Query, projectionBias);
        var k = g.Linear(ctx, keys.Key, projectionBias);
        var v = g.Linear(ctx, keys.Value, projectionBias);
        var scope = keys.Scope;
        var split = g.Int64s(0, 0, heads, d);
        q = g.Op("Transpose", keys.Query, [g.Op("Reshape", keys.Query, [q, split])], OnnxGraph.Attr("perm", 0, 2, 1, 3));   // [B,h,N,d]
        k = g.Op("Transpose", keys.Key, [g.Op("Reshape", keys.Key, [k, split])], OnnxGraph.Attr("perm", 0, 2, 3, 1));       // [B,h,d,M]
        v = g.Op("Transpose", keys.Value, [g.Op("Reshape", keys.Value, [v, split])], OnnxGraph.Attr("perm", 0, 2, 1, 3));   // [B,h,M,d]
        var scores = g.Op("MatMul", scope, [g.Op("Mul", scope, [q, g.Scalar((float)(1.0 / Math.Sqrt(d)))]), k]);           // [B,h,N,M]
        if (mask is not null) scores = g.Op("Add", scope, [scores, mask]);
        var weights = g.Op("Softmax", scope, [scores], OnnxGraph.Attr("axis", -1L));
        var o = g.Op("Transpose", scope, [g.Op("MatMul", scope, [weights, v])], OnnxGraph.Attr("perm", 0, 2, 1, 3));         // [B,N,h,d]
        o = g.Op("Reshape", scope, [o, g.Int64s(0, 0, channels)]);                                                          // [B,N,C]
        return g.Linear(o, keys.Out);
    }

    /// <summary>
    /// diffusers' sinusoidal projection of float32 values t [N] to [N, dim] in the compute type: the frequencies are
    /// <see cref="Timesteps.Frequencies"/>, the products and sin/cos in float32, then cast (diffusers casts to the model dtype).
    /// </summary>
    public static string Sinusoidal(this OnnxGraph g, string t, int dim, bool flipSinToCos, int freqShift, string scope)
    {
        using var freqs = Timesteps.Frequencies(dim, freqShift);
        var args = g.Op("Mul", scope, [g.Op("Unsqueeze", scope, [t, g.Int64s(1)]), g.Floats(DataType.Float, [dim / 2], freqs.data<float>().ToArray())]);  // [N,half]
        var sin = g.Op("Sin", scope, [args]);
        var cos = g.Op("Cos", scope, [args]);
        var emb = g.Op("Concat", scope, flipSinToCos ? [cos, sin] : [sin, cos], OnnxGraph.Attr("axis", 1L));   // [N,2*half]
        if (dim % 2 == 1) emb = g.Op("Pad", scope, [emb, g.Int64s(0, 0, 0, 1)]);                                  // odd width: zero column
        return g.CastToCompute(emb, scope);
    }

    /// <summary>A float32 value in the compute type (no node when that is float32).</summary>
    public static string CastToCompute(this OnnxGraph g, string x, string scope) =>
        g.Compute == DataType.Float ? x : g.Op("Cast", scope, [x], OnnxGraph.Attr("to", (long)g.Compute));
}
