using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// The tensors each component owns, as diffusers' modules register them, from the component's channels and the
    /// spec's widths; and the state dict's order, diffusers' registration order. Used by <see cref="UNetLayout.Create"/>,
    /// so a layout built from YAML and one emitted as C# data have the same keys.
    /// </summary>
    internal static class ComponentKeys
    {
        public static List<TensorKey> Of(LayoutComponent c, UNetSpec spec)
        {
            var id = c.Id;
            switch (c.Kind)
            {
                case ComponentKind.ConvIn:
                    return Conv(id, c.OutChannels, c.InChannels, 3);
                case ComponentKind.TimeEmbedding:
                case ComponentKind.AdditionEmbedding:
                    return Linear($"{id}.linear_1", c.OutChannels, c.InChannels).Concat(Linear($"{id}.linear_2", c.OutChannels, c.OutChannels)).ToList();
                case ComponentKind.Resnet:
                {
                    int inChannels = c.InChannels + c.SkipChannels, outChannels = c.OutChannels;
                    var keys = Norm($"{id}.norm1", inChannels)
                        .Concat(Conv($"{id}.conv1", outChannels, inChannels, 3))
                        .Concat(Linear($"{id}.time_emb_proj", outChannels, spec.TimeEmbeddingDim))
                        .Concat(Norm($"{id}.norm2", outChannels))
                        .Concat(Conv($"{id}.conv2", outChannels, outChannels, 3)).ToList();
                    if (inChannels != outChannels) keys.AddRange(Conv($"{id}.conv_shortcut", outChannels, inChannels, 1));
                    return keys;
                }
                case ComponentKind.Transformer when c.IsUnit:
                    return ShellIn(c, spec)
                        .Concat(Enumerable.Range(0, c.Depth).SelectMany(k => Block($"{id}.transformer_blocks.{k}", c.OutChannels, spec)))
                        .Concat(ShellOut(c, spec)).ToList();
                case ComponentKind.Transformer:
                    return ShellIn(c, spec).Concat(ShellOut(c, spec)).ToList();
                case ComponentKind.TransformerBlock:
                    return Block(id, c.OutChannels, spec);
                case ComponentKind.Downsampler:
                case ComponentKind.Upsampler:
                    return Conv($"{id}.conv", c.OutChannels, c.InChannels, 3);
                default: // OutputHead: conv_norm_out and conv_out
                    return Norm("conv_norm_out", c.InChannels).Concat(Conv("conv_out", c.OutChannels, c.InChannels, 3)).ToList();
            }
        }

        /// <summary>
        /// Every component's keys in diffusers' registration order: conv_in, time_embedding, add_embedding, the down
        /// stages, the up stages, the mid block, the head; in a stage its attentions, resnets, then its resampler;
        /// a Transformer2D's blocks between its proj_in and proj_out.
        /// </summary>
        public static List<TensorKey> StateDictOrder(IReadOnlyList<LayoutComponent> components, UNetSpec spec)
        {
            var keys = new List<TensorKey>();
            foreach (var c in components.Where(c => c.Kind != ComponentKind.TransformerBlock).OrderBy(Rank))
            {
                if (c.Kind == ComponentKind.Transformer && !c.IsUnit)
                {
                    keys.AddRange(ShellIn(c, spec));
                    foreach (var block in components.Where(b => b.Kind == ComponentKind.TransformerBlock && b.Stage == c.Stage && b.Layer == c.Layer))
                        keys.AddRange(block.Keys);
                    keys.AddRange(ShellOut(c, spec));
                }
                else keys.AddRange(c.Keys);
            }
            return keys;
        }

        private static (int Path, int Stage, int Kind, int Layer) Rank(LayoutComponent c)
        {
            int path = c.Stage.Path switch { StagePath.Stem => 0, StagePath.Down => 1, StagePath.Up => 2, StagePath.Mid => 3, _ => 4 };
            int kind = c.Kind switch
            {
                ComponentKind.TimeEmbedding => 1,
                ComponentKind.AdditionEmbedding => 2,
                ComponentKind.Resnet => 1,
                ComponentKind.Downsampler => 2,
                ComponentKind.Upsampler => 2,
                _ => 0,    // conv_in, transformers (attentions), the head
            };
            return (path, c.Stage.Index, kind, c.Layer);
        }

        private static IEnumerable<TensorKey> ShellIn(LayoutComponent c, UNetSpec spec) =>
            Norm($"{c.Id}.norm", c.OutChannels).Concat(Projection($"{c.Id}.proj_in", c.OutChannels, spec));

        private static IEnumerable<TensorKey> ShellOut(LayoutComponent c, UNetSpec spec) => Projection($"{c.Id}.proj_out", c.OutChannels, spec);

        private static List<TensorKey> Block(string id, int c, UNetSpec spec)
        {
            int x = spec.CrossAttentionDim;
            int inner = 4 * c; // GEGLU feed-forward, mult 4
            var keys = new List<TensorKey>();
            keys.AddRange(Norm($"{id}.norm1", c));
            keys.Add(Key($"{id}.attn1.to_q.weight", c, c));
            keys.Add(Key($"{id}.attn1.to_k.weight", c, c));
            keys.Add(Key($"{id}.attn1.to_v.weight", c, c));
            keys.AddRange(Linear($"{id}.attn1.to_out.0", c, c));
            keys.AddRange(Norm($"{id}.norm2", c));
            keys.Add(Key($"{id}.attn2.to_q.weight", c, c));
            keys.Add(Key($"{id}.attn2.to_k.weight", c, x));
            keys.Add(Key($"{id}.attn2.to_v.weight", c, x));
            keys.AddRange(Linear($"{id}.attn2.to_out.0", c, c));
            keys.AddRange(Norm($"{id}.norm3", c));
            keys.AddRange(Linear($"{id}.ff.net.0.proj", 2 * inner, c));
            keys.AddRange(Linear($"{id}.ff.net.2", c, inner));
            return keys;
        }

        private static IEnumerable<TensorKey> Projection(string id, int c, UNetSpec spec) =>
            spec.Projection == AttentionProjection.Linear ? Linear(id, c, c) : Conv(id, c, c, 1);

        private static TensorKey Key(string name, params long[] shape) => new TensorKey(name, shape.ToEquatableArray());

        private static List<TensorKey> Conv(string id, int outC, int inC, int k) =>
            new List<TensorKey> { Key($"{id}.weight", outC, inC, k, k), Key($"{id}.bias", outC) };

        private static List<TensorKey> Linear(string id, int outF, int inF) =>
            new List<TensorKey> { Key($"{id}.weight", outF, inF), Key($"{id}.bias", outF) };

        private static List<TensorKey> Norm(string id, int c) =>
            new List<TensorKey> { Key($"{id}.weight", c), Key($"{id}.bias", c) };
    }
}
