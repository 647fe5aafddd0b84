using System;
using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>The input one U-Net step is costed at: batch, latent height and width, and text tokens of the conditioning.</summary>
    public sealed record CostShape(int Batch, int Height, int Width, int Tokens)
    {
        public override string ToString() => $"batch {Batch}, {Height}x{Width} latents, {Tokens} tokens";
    }

    /// <summary>
    /// Floating-point operations of one U-Net forward, per component, counted from the layout. The convention: FLOPs =
    /// 2 x multiply-adds of the matrix products, the work that dominates a U-Net:
    /// <list type="bullet">
    /// <item>a k x k convolution, Cin -> Cout, at an output of Ho x Wo: 2 B Ho Wo Cout Cin k^2 (conv_in, ResNet conv1/conv2 and
    /// 1x1 shortcut, 1x1 projections, downsamplers at the halved size ceil(H/2), upsamplers at the size they upsample to, conv_out);</item>
    /// <item>a linear layer, in -> out, over N tokens: 2 N in out (time and addition embeddings and each ResNet's time_emb_proj over
    /// B tokens; attention projections and the GEGLU feed-forward over B x H x W tokens, cross-attention keys and values over B x T
    /// text tokens);</item>
    /// <item>attention: 2 B S L C for the scores Q K^T and again for the weighted sum over the values, S query positions, L key
    /// positions (S for self-attention, T for cross-attention) and C channels summed over the heads.</item>
    /// </list>
    /// Not counted: biases, normalisations, activations, softmax, the GEGLU gate's product, residual additions, concatenations and
    /// nearest-neighbour resampling (elementwise and memory-bound, a few percent of the total). A BasicTransformerBlock of C
    /// channels at S positions is then 36 B S C^2 + 4 B S^2 C + 4 B T X C + 4 B S T C (X: cross-attention width); a Transformer2D
    /// adds 4 B S C^2 for proj_in and proj_out.
    /// </summary>
    public static class UNetFlops
    {
        /// <summary>One description of the convention, recorded in cost files.</summary>
        public const string Convention =
            "2 x multiply-adds of convolutions, linear layers and attention matmuls (Q K^T and the weighted sum); " +
            "biases, norms, activations, softmax, GEGLU gate, additions and resampling not counted";

        /// <summary>FLOPs of every component of <paramref name="layout"/> (removed units included), by id.</summary>
        public static IReadOnlyDictionary<string, long> Count(UNetLayout layout, CostShape shape)
        {
            if (shape.Batch < 1 || shape.Height < 1 || shape.Width < 1 || shape.Tokens < 1)
                throw new ArgumentOutOfRangeException(nameof(shape), $"{shape}: every size must be at least 1");
            var spec = layout.Spec;
            long b = shape.Batch, t = shape.Tokens, x = Math.Max(spec.CrossAttentionDim, 1);
            var flops = new Dictionary<string, long>(StringComparer.Ordinal);
            var skips = new Stack<(int H, int W)>();
            int h = shape.Height, w = shape.Width;
            foreach (var step in layout.Steps)
            {
                var c = layout.Components[step.Component];
                long cin = c.InChannels, cout = c.OutChannels;
                long s = (long)h * w;
                switch (step.Kind)
                {
                    case StepKind.TimeEmbedding:
                    case StepKind.AdditionEmbedding:
                        flops[c.Id] = checked(2 * b * (cin * cout + cout * cout));
                        break;
                    case StepKind.ConvIn:
                    case StepKind.OutputHead:
                        flops[c.Id] = Conv(b, s, cin, cout, 3);
                        break;
                    case StepKind.Resnet:
                    case StepKind.UpResnet:
                    {
                        long input = cin + c.SkipChannels;
                        long total = Conv(b, s, input, cout, 3) + 2 * b * spec.TimeEmbeddingDim * cout + Conv(b, s, cout, cout, 3);
                        if (input != cout) total += Conv(b, s, input, cout, 1);
                        flops[c.Id] = checked(total);
                        if (step.PopsSkip) skips.Pop();
                        break;
                    }
                    case StepKind.Transformer:
                        flops[c.Id] = checked(Shell(b, s, cout) + c.Depth * Block(b, s, cout, t, x));
                        break;
                    case StepKind.TransformerEnter:
                        flops[c.Id] = Shell(b, s, cout);
                        break;
                    case StepKind.TransformerBlock:
                        flops[c.Id] = Block(b, s, cout, t, x);
                        break;
                    case StepKind.TransformerExit:
                        break;   // the shell's proj_out is counted with its proj_in
                    case StepKind.Downsample:
                        h = (h + 1) / 2;
                        w = (w + 1) / 2;
                        flops[c.Id] = Conv(b, (long)h * w, cin, cout, 3);
                        break;
                    case StepKind.Upsample:
                        (h, w) = skips.Peek();   // to the size of the skip the next ResNet concatenates
                        flops[c.Id] = Conv(b, (long)h * w, cin, cout, 3);
                        break;
                    default:
                        throw new InvalidOperationException($"step {step.Kind} has no FLOP count");
                }
                if (step.PushesSkip) skips.Push((h, w));
            }
            return flops;
        }

        /// <summary>FLOPs of one step of the model <paramref name="layout"/> describes: every component it runs (removed units excluded).</summary>
        public static long Step(UNetLayout layout, CostShape shape)
        {
            var flops = Count(layout, shape);
            return layout.Components.Where(c => !layout.IsRemoved(c.Id)).Sum(c => flops[c.Id]);
        }

        private static long Conv(long b, long positions, long cin, long cout, long k) => checked(2 * b * positions * cout * cin * k * k);

        /// <summary>proj_in and proj_out, linear or 1x1 convolution alike.</summary>
        private static long Shell(long b, long s, long c) => checked(4 * b * s * c * c);

        /// <summary>
        /// attn1: q, k, v, out (8 B S C^2) and scores plus weighted sum (4 B S^2 C); attn2: q, out (4 B S C^2), k, v over the
        /// text (4 B T X C), scores plus weighted sum (4 B S T C); feed-forward C -> 8C (GEGLU) and 4C -> C (24 B S C^2).
        /// </summary>
        private static long Block(long b, long s, long c, long t, long x) =>
            checked(36 * b * s * c * c + 4 * b * s * s * c + 4 * b * t * x * c + 4 * b * s * t * c);
    }
}
