using LaptopDiff.Spec;
using DataType = LaptopDiff.Runtime.Onnx.Proto.TensorProto.Types.DataType;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>
/// A U-Net's ONNX graph, built from its <see cref="UNetLayout"/> step by step as the execution plan runs it (the same
/// skip pushes and pops, stage by stage; removed units emit nothing, a removed up-stage ResNet still drops its skip).
/// Inputs and outputs follow diffusers' ONNX pipelines (Optimum's export):
/// <list type="bullet">
/// <item><c>sample</c> [batch, in, height, width] and <c>encoder_hidden_states</c> [batch, sequence_length, cross_attention_dim]
/// in the compute type;</item>
/// <item><c>timestep</c> float32 [timestep_batch], one per sample or a single one for the whole batch (diffusers'
/// ONNX pipeline passes [1]; Optimum's adds that axis to its scalar);</item>
/// <item>for SDXL-style models <c>text_embeds</c> [batch, P] and <c>time_ids</c> [batch, 6];</item>
/// <item>output <c>out_sample</c> [batch, out, height, width].</item>
/// </list>
/// Batch, height, width and the text length are symbolic: one file serves every batch and resolution.
/// </summary>
internal static class UNetOnnxGraph
{
    public const string Sample = "sample";
    public const string Timestep = "timestep";
    public const string EncoderHiddenStates = "encoder_hidden_states";
    public const string TextEmbeds = "text_embeds";
    public const string TimeIds = "time_ids";
    public const string OutSample = "out_sample";

    public static OnnxGraph Build(UNetLayout layout, IOnnxWeightSource weights, OnnxPrecision precision)
    {
        var spec = layout.Spec;
        var g = new OnnxGraph(string.IsNullOrEmpty(spec.Name) ? "unet" : spec.Name, precision, weights);
        var state = new State(g, layout);
        state.Sample = g.Input(Sample, g.Compute, "batch", spec.InChannels, "height", "width");
        state.Timestep = g.Input(Timestep, DataType.Float, "timestep_batch");
        state.Context = g.Input(EncoderHiddenStates, g.Compute, "batch", "sequence_length", Math.Max(spec.CrossAttentionDim, 1));
        if (spec.AdditionEmbedding is { } add)
        {
            state.TextEmbeds = g.Input(TextEmbeds, g.Compute, "batch", add.TextEmbedDim);
            state.TimeIds = g.Input(TimeIds, g.Compute, "batch", add.TimeIdCount);
        }

        foreach (var step in layout.Steps)
        {
            state.Run(step);
            if (step.PushesSkip) state.Skips.Push(state.Hidden);
        }
        g.Output(state.Hidden, OutSample, g.Compute, "batch", spec.OutChannels, "height", "width");
        return g;
    }

    /// <summary>The running values of the forward (ONNX value names), as <c>PlanRun</c> holds tensors.</summary>
    private sealed class State(OnnxGraph g, UNetLayout layout)
    {
        private readonly HashSet<string> _removed = new(layout.Removed, StringComparer.Ordinal);
        private readonly UNetSpec _spec = layout.Spec;

        public string Sample = "", Timestep = "", Context = "";
        public string? TextEmbeds, TimeIds;
        public string Hidden = "", Temb = "", TembAct = "";
        public string? Residual;
        public Stack<string> Skips { get; } = new();

        public void Run(LayoutStep step)
        {
            var c = layout.Components[step.Component];
            bool removed = _removed.Contains(c.Id);
            switch (step.Kind)
            {
                case StepKind.TimeEmbedding: SetTemb(TimeEmbedding(c)); break;
                case StepKind.AdditionEmbedding: SetTemb(g.Op("Add", c.Id, [Temb, AdditionEmbedding(c)])); break;
                case StepKind.ConvIn: Hidden = g.Conv(Sample, "conv_in"); break;
                case StepKind.Resnet when !removed: Hidden = Resnet(c, Hidden); break;
                case StepKind.UpResnet:
                {
                    var skip = Skips.Pop();                                                        // dropped when removed
                    if (!removed) Hidden = Resnet(c, g.Op("Concat", c.Id, [Hidden, skip], OnnxGraph.Attr("axis", 1L)));   // [B,Ch+Cs,H,W]
                    break;
                }
                case StepKind.Transformer when !removed:
                {
                    var input = Hidden;
                    var tokens = Enter(c, input);
                    for (int k = 0; k < c.Depth; k++) tokens = Block(c, $"{c.Id}.transformer_blocks.{k}", tokens);
                    Hidden = Exit(c, tokens, input);
                    break;
                }
                case StepKind.TransformerEnter:
                    Residual = Hidden;
                    Hidden = Enter(c, Hidden);
                    break;
                case StepKind.TransformerBlock when !removed: Hidden = Block(c, c.Id, Hidden); break;
                case StepKind.TransformerExit:
                    Hidden = Exit(c, Hidden, Residual ?? throw new InvalidOperationException($"{c.Id}: no transformer residual"));
                    Residual = null;
                    break;
                case StepKind.Downsample: Hidden = g.Conv(Hidden, $"{c.Id}.conv", stride: 2); break;
                case StepKind.Upsample: Hidden = g.Upsample(Hidden, c.Id, Skips.Count > 0 ? Skips.Peek() : null); break;
                case StepKind.OutputHead:
                    Hidden = g.Conv(g.Silu(g.GroupNorm(Hidden, "conv_norm_out", _spec.Norm.Groups, _spec.Norm.Eps), "conv_norm_out"), "conv_out");
                    break;
            }
        }

        private void SetTemb(string temb)
        {
            Temb = temb;
            TembAct = g.Silu(temb, "time_embedding");                                            // [B,T], shared by every ResNet
        }

        /// <summary>time_embedding(time_proj(timestep broadcast to the batch)): [B,T].</summary>
        private string TimeEmbedding(LayoutComponent c)
        {
            var t = g.Op("Reshape", "time_proj", [Timestep, g.Int64s(-1)]);                                        // [1] or [B]
            var batch = g.Op("Slice", "time_proj", [g.Op("Shape", "time_proj", [Sample]), g.Int64s(0), g.Int64s(1)]);
            t = g.Op("Expand", "time_proj", [t, batch]);                                                           // [B]
            var proj = g.Sinusoidal(t, c.InChannels, _spec.FlipSinToCos, _spec.FreqShift, "time_proj");           // [B,C0]
            return Mlp(proj, c.Id);
        }

        /// <summary>add_embedding(cat(text_embeds, add_time_proj(time_ids) as [B, n*D])): [B,T].</summary>
        private string AdditionEmbedding(LayoutComponent c)
        {
            var add = _spec.AdditionEmbedding!;
            var ids = g.Op("Reshape", "add_time_proj", [TimeIds!, g.Int64s(-1)]);                                  // [B*n]
            if (g.Compute != DataType.Float) ids = g.Op("Cast", "add_time_proj", [ids], OnnxGraph.Attr("to", (long)DataType.Float));
            var proj = g.Sinusoidal(ids, add.TimeEmbedDim, _spec.FlipSinToCos, _spec.FreqShift, "add_time_proj");  // [B*n,D]
            proj = g.Op("Reshape", "add_time_proj", [proj, g.Int64s(-1, (long)add.TimeIdCount * add.TimeEmbedDim)]);  // [B,n*D]
            return Mlp(g.Op("Concat", c.Id, [TextEmbeds!, proj], OnnxGraph.Attr("axis", 1L)), c.Id);             // [B,P+n*D] -> [B,T]
        }

        private string Mlp(string x, string prefix) => g.Linear(g.Silu(g.Linear(x, $"{prefix}.linear_1"), prefix), $"{prefix}.linear_2");

        private string Resnet(LayoutComponent c, string x) =>
            g.Resnet(x, c.Id, _spec.Norm.Groups, _spec.Norm.Eps, TembAct, hasShortcut: c.InChannels + c.SkipChannels != c.OutChannels);

        /// <summary>norm (eps 1e-6), to tokens, proj_in: [B,C,H,W] -> [B,HW,C].</summary>
        private string Enter(LayoutComponent shell, string x)
        {
            var n = g.GroupNorm(x, $"{shell.Id}.norm", _spec.Norm.Groups, _spec.Norm.TransformerEps);
            var tokens = g.Op("Transpose", shell.Id, [g.Op("Reshape", shell.Id, [n, g.Int64s(0, 0, -1)])], OnnxGraph.Attr("perm", 0, 2, 1));  // [B,HW,C]
            return Projection(tokens, $"{shell.Id}.proj_in");
        }

        /// <summary>proj_out, back to [B,C,H,W], plus the residual.</summary>
        private string Exit(LayoutComponent shell, string tokens, string residual)
        {
            var o = g.Op("Transpose", shell.Id, [Projection(tokens, $"{shell.Id}.proj_out")], OnnxGraph.Attr("perm", 0, 2, 1));              // [B,C,HW]
            o = g.Op("Reshape", shell.Id, [o, g.Op("Shape", shell.Id, [residual])]);                                                     // [B,C,H,W]
            return g.Op("Add", shell.Id, [residual, o]);
        }

        // A 1x1 convolution over [B,C,H,W] is a linear map over the tokens [B,HW,C] (as Transformer2DModel applies it).
        private string Projection(string tokens, string prefix) => g.Linear(tokens, prefix);

        /// <summary>diffusers' BasicTransformerBlock: self-attention, cross-attention, GEGLU feed-forward, each pre-LayerNorm and residual.</summary>
        private string Block(LayoutComponent shell, string prefix, string x)
        {
            double eps = _spec.Norm.LayerNormEps;
            var h = g.Op("Add", $"{prefix}.attn1", [g.Attention(g.LayerNorm(x, $"{prefix}.norm1", eps), null, AttentionKeys.Diffusers($"{prefix}.attn1"), shell.Heads, false), x]);
            h = g.Op("Add", $"{prefix}.attn2", [g.Attention(g.LayerNorm(h, $"{prefix}.norm2", eps), Context, AttentionKeys.Diffusers($"{prefix}.attn2"), shell.Heads, false), h]);
            return g.Op("Add", $"{prefix}.ff", [FeedForward(g.LayerNorm(h, $"{prefix}.norm3", eps), $"{prefix}.ff"), h]);
        }

        /// <summary>GEGLU (proj to 2 x inner, hidden * gelu(gate)) then the output linear: [B,N,C] -> [B,N,C].</summary>
        private string FeedForward(string x, string prefix)
        {
            var proj = g.Linear(x, $"{prefix}.net.0.proj");                                          // [B,N,2*inner]
            long inner = g.ShapeOf($"{prefix}.net.0.proj.weight")[0] / 2;
            var hidden = g.Op("Slice", prefix, [proj, g.Int64s(0), g.Int64s(inner), g.Int64s(-1)]);     // [B,N,inner]
            var gate = g.Op("Slice", prefix, [proj, g.Int64s(inner), g.Int64s(2 * inner), g.Int64s(-1)]);
            return g.Linear(g.Op("Mul", prefix, [hidden, g.Gelu(gate, prefix)]), $"{prefix}.net.2");
        }
    }
}
