using System.Text.Json.Nodes;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Diffusers;

/// <summary>
/// A (pruned) model as a plain diffusers <c>UNet2DConditionModel</c>: its config.json and how each surviving
/// tensor key is renamed (diffusers numbers a block's ResNets, transformers and transformer blocks from 0 without holes).
/// </summary>
public sealed record DiffusersExportPlan(JsonObject Config, IReadOnlyDictionary<string, string> KeyRenames)
{
    public string Rename(string key) => KeyRenames.TryGetValue(key, out var renamed) ? renamed : key;

    /// <summary>
    /// The plan, or null with the reason when the structure has no diffusers equivalent. Expressible: whole layers
    /// (a ResNet with its transformer) removed where diffusers' fewer layers per block see the same skip connections
    /// (BK-SDM's pattern: a down pair and the up layer that read its skip), transformer blocks removed with at least
    /// one left (per-layer depths, as SSD-1B), a stage's every transformer removed (a plain block), the mid block cut
    /// to its first ResNet or removed.
    /// </summary>
    public static DiffusersExportPlan? TryCreate(UNetLayout layout, out string reason)
    {
        try
        {
            reason = "";
            return new Planner(layout).Build();
        }
        catch (NotExpressibleException e)
        {
            reason = e.Message;
            return null;
        }
    }

    private sealed class NotExpressibleException(string message) : Exception(message);

    /// <summary>One layer of a stage as it survives pruning: its ResNet and its transformer's remaining blocks.</summary>
    private sealed record Layer(int Index, bool Kept, bool HasAttention, IReadOnlyList<int> KeptBlocks)
    {
        public int Blocks => KeptBlocks.Count;
    }

    private sealed class Planner(UNetLayout layout)
    {
        private readonly UNetSpec _spec = layout.Spec;
        private readonly Dictionary<string, string> _renames = new(StringComparer.Ordinal);

        public DiffusersExportPlan Build()
        {
            if (_spec.Norm.TransformerEps != 1e-6 || _spec.Norm.LayerNormEps != 1e-5)
                throw new NotExpressibleException("diffusers fixes the transformer GroupNorm eps at 1e-6 and the LayerNorm eps at 1e-5");
            int stages = _spec.Down.Count;
            var down = Enumerable.Range(0, stages).Select(i => Layers($"down_blocks.{i}", _spec.Down[i])).ToList();
            var up = Enumerable.Range(0, stages).Select(i => Layers($"up_blocks.{i}", _spec.Up[i])).ToList();
            CheckSkips(down, up);

            var (midType, midDepth) = Mid();
            var heads = new int[stages];
            var downDepths = new List<List<int>>();
            // diffusers ignores a plain stage's heads; give it the model's head width, as SDXL's config does (320 channels: 5 heads of 64)
            var firstAttention = _spec.Down.Concat(_spec.Up).FirstOrDefault(st => st.Heads > 0);
            int headDim = firstAttention != null ? firstAttention.Channels / firstAttention.Heads : 0;
            for (int i = 0; i < stages; i++)
            {
                int d = i, u = stages - 1 - i;
                int plainHeads = headDim > 0 && _spec.Down[d].Channels % headDim == 0 ? _spec.Down[d].Channels / headDim : 1;
                heads[d] = _spec.Down[d].Heads > 0 ? _spec.Down[d].Heads : _spec.Up[u].Heads > 0 ? _spec.Up[u].Heads
                    : d == stages - 1 && _spec.Mid.Kind == MidKind.CrossAttn ? _spec.Mid.Heads : plainHeads;
                if (_spec.Up[u].Heads > 0 && _spec.Up[u].Heads != heads[d])
                    throw new NotExpressibleException($"up stage {u} has {_spec.Up[u].Heads} heads, down stage {d} {heads[d]}: diffusers mirrors one value per stage");
                var kept = down[d].Where(l => l.Kept).ToList();
                // a plain stage's entry is unused by diffusers, except the last one's, which sets the mid block's depth
                downDepths.Add(HasAttention(kept) ? kept.Select(l => l.Blocks).ToList() : Enumerable.Repeat(d == stages - 1 && midDepth > 0 ? midDepth : 1, kept.Count).ToList());
            }
            if (midType == "UNetMidBlock2DCrossAttn")
            {
                if (heads[stages - 1] != _spec.Mid.Heads)
                    throw new NotExpressibleException($"the mid block has {_spec.Mid.Heads} heads, the last stage {heads[stages - 1]}: diffusers uses one value");
                if (downDepths[^1][0] != midDepth)
                    throw new NotExpressibleException($"the mid transformer keeps {midDepth} blocks, the last down stage's first {downDepths[^1][0]}: diffusers uses one value");
            }
            var upDepths = up.Select(layers => layers.Where(l => l.Kept).ToList())
                .Select(kept => HasAttention(kept) ? kept.Select(l => l.Blocks).ToList() : Enumerable.Repeat(1, kept.Count).ToList()).ToList();
            return new DiffusersExportPlan(Config(down, up, heads, downDepths, upDepths, midType), _renames);
        }

        private static bool HasAttention(IEnumerable<Layer> kept) => kept.Any(l => l.HasAttention && l.Blocks > 0);

        /// <summary>The stage's layers; records the renames of survivors; refuses half-removed layers and mixed stages.</summary>
        private List<Layer> Layers(string prefix, StageSpec stage)
        {
            var layers = new List<Layer>();
            for (int j = 0; j < stage.Layers; j++)
            {
                string resnet = $"{prefix}.resnets.{j}", attention = $"{prefix}.attentions.{j}";
                bool hasAttention = stage.Kind == BlockKind.CrossAttn;
                int depth = hasAttention ? stage.TransformerDepth[j] : 0;
                var keptBlocks = hasAttention ? KeptBlocks(attention, depth) : [];
                bool resnetKept = !layout.IsRemoved(resnet);
                if (!resnetKept && keptBlocks.Count > 0)
                    throw new NotExpressibleException($"{resnet} is removed but {attention} is kept; a diffusers layer is a ResNet and its transformer");
                layers.Add(new Layer(j, resnetKept, hasAttention, keptBlocks));
            }
            var kept = layers.Where(l => l.Kept).ToList();
            if (kept.Count == 0) throw new NotExpressibleException($"{prefix} keeps no layer; a diffusers block has at least one");
            if (kept.Any(l => l.Blocks > 0) && kept.Any(l => l.Blocks == 0))
                throw new NotExpressibleException($"{prefix} keeps transformers on some layers only; a diffusers block has them on all or none");
            for (int n = 0; n < kept.Count; n++)
            {
                RenamePrefix($"{prefix}.resnets.{kept[n].Index}.", $"{prefix}.resnets.{n}.");
                for (int b = 0; b < kept[n].KeptBlocks.Count; b++)
                    RenamePrefix($"{prefix}.attentions.{kept[n].Index}.transformer_blocks.{kept[n].KeptBlocks[b]}.", $"{prefix}.attentions.{n}.transformer_blocks.{b}.");
                if (kept[n].Blocks > 0) RenameShell($"{prefix}.attentions.{kept[n].Index}.", $"{prefix}.attentions.{n}.");
            }
            return layers;
        }

        /// <summary>
        /// Follows the skip connections both ways: this runtime pushes one per down layer, removed or not (a removed
        /// one pushes its input again), and drops the skip of a removed up layer; diffusers pushes one per kept down
        /// layer and its up blocks take one more than their mirror's layers. Expressible only if every kept up layer
        /// reads the same tensor.
        /// </summary>
        private void CheckSkips(List<List<Layer>> down, List<List<Layer>> up)
        {
            int stages = down.Count;
            var runtime = new List<string> { "conv_in" };
            var diffusers = new List<string> { "conv_in" };
            string hidden = "conv_in";
            for (int i = 0; i < stages; i++)
            {
                foreach (var layer in down[i])
                {
                    if (layer.Kept)
                    {
                        hidden = $"down_blocks.{i} layer {layer.Index}";
                        diffusers.Add(hidden);
                    }
                    runtime.Add(hidden);
                }
                if (_spec.Down[i].Resample)
                {
                    hidden = $"down_blocks.{i}.downsamplers";
                    runtime.Add(hidden);
                    diffusers.Add(hidden);
                }
            }
            for (int u = 0; u < stages; u++)
            {
                var read = new List<string>();
                foreach (var layer in up[u])
                {
                    var skip = Pop(runtime);
                    if (layer.Kept) read.Add(skip);
                }
                int mirrorLayers = down[stages - 1 - u].Count(l => l.Kept);
                var expected = Enumerable.Range(0, mirrorLayers + 1).Select(_ => Pop(diffusers)).ToList();
                if (!read.SequenceEqual(expected))
                    throw new NotExpressibleException(
                        $"up_blocks.{u} keeps layers reading the skips of [{string.Join(", ", read)}], but a diffusers up block after " +
                        $"{mirrorLayers} kept down layer(s) reads [{string.Join(", ", expected)}]: remove down and up layers in mirrored pairs (as BK-SDM)");
            }
        }

        private static string Pop(List<string> stack)
        {
            var top = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return top;
        }

        /// <summary>diffusers' mid_block_type and the mid transformer's depth (0 without one).</summary>
        private (string? Type, int Depth) Mid()
        {
            var mid = _spec.Mid;
            if (mid.Kind == MidKind.None) return (null, 0);
            bool first = !layout.IsRemoved("mid_block.resnets.0");
            if (mid.Kind == MidKind.Resnet) return first ? ("UNetMidBlock2D", 0) : (null, 0);
            bool second = !layout.IsRemoved("mid_block.resnets.1");
            const string attention = "mid_block.attentions.0";
            var keptBlocks = KeptBlocks(attention, mid.TransformerDepth);
            if (first && second && keptBlocks.Count > 0)
            {
                for (int n = 0; n < keptBlocks.Count; n++)
                    RenamePrefix($"{attention}.transformer_blocks.{keptBlocks[n]}.", $"{attention}.transformer_blocks.{n}.");
                return ("UNetMidBlock2DCrossAttn", keptBlocks.Count);
            }
            if (first && !second && keptBlocks.Count == 0) return ("UNetMidBlock2D", 0);
            if (!first && !second && keptBlocks.Count == 0) return (null, 0);
            throw new NotExpressibleException("the mid block keeps " + string.Join(", ", new[] { first ? "its first ResNet" : null, keptBlocks.Count > 0 ? "its transformer" : null, second ? "its second ResNet" : null }.OfType<string>()) +
                                              "; diffusers' mid blocks are ResNet-transformer-ResNet, the first ResNet alone, or none");
        }

        /// <summary>The surviving block indices of a transformer (none when it is removed whole); refuses an emptied shell.</summary>
        private List<int> KeptBlocks(string attention, int depth)
        {
            if (layout.IsRemoved(attention)) return [];
            var kept = Enumerable.Range(0, depth).Where(b => !layout.IsRemoved($"{attention}.transformer_blocks.{b}")).ToList();
            if (kept.Count == 0)
                throw new NotExpressibleException($"{attention} keeps its norm and projections with every block removed; diffusers has no empty transformer");
            return kept;
        }

        private void RenamePrefix(string from, string to)
        {
            if (from == to) return;
            foreach (var key in layout.LiveKeys.Select(k => k.Name).Where(k => k.StartsWith(from, StringComparison.Ordinal)))
                _renames[key] = to + key[from.Length..];
        }

        /// <summary>A transformer's own tensors (norm, proj_in, proj_out); <see cref="RenamePrefix"/> moved its blocks.</summary>
        private void RenameShell(string from, string to)
        {
            if (from == to) return;
            foreach (var key in layout.LiveKeys.Select(k => k.Name)
                         .Where(k => k.StartsWith(from, StringComparison.Ordinal) && !k.StartsWith(from + "transformer_blocks.", StringComparison.Ordinal)))
                _renames[key] = to + key[from.Length..];
        }

        private JsonObject Config(List<List<Layer>> down, List<List<Layer>> up, int[] heads, List<List<int>> downDepths, List<List<int>> upDepths, string? midType)
        {
            int stages = down.Count;
            var layers = down.Select(l => l.Count(x => x.Kept)).ToList();
            var downTypes = Enumerable.Range(0, stages).Select(i => HasAttention(down[i].Where(l => l.Kept)) ? "CrossAttnDownBlock2D" : "DownBlock2D");
            var upTypes = Enumerable.Range(0, stages).Select(i => HasAttention(up[i].Where(l => l.Kept)) ? "CrossAttnUpBlock2D" : "UpBlock2D");
            // diffusers mirrors one depth per down stage onto the up path unless reverse_transformer_layers_per_block is given
            bool uniform = downDepths.All(d => d.Distinct().Count() == 1);
            bool mirrored = uniform && Enumerable.Range(0, stages).All(u => upDepths[u].All(x => x == downDepths[stages - 1 - u][0]));
            var c = _spec.Down[0].Channels;
            var config = new JsonObject
            {
                ["_class_name"] = "UNet2DConditionModel",
                ["_laptopdiff_spec"] = _spec.Name,
                ["act_fn"] = "silu",
                ["attention_head_dim"] = IntArray(heads),
                ["block_out_channels"] = IntArray(_spec.Down.Select(s => s.Channels)),
                ["center_input_sample"] = false,
                ["cross_attention_dim"] = _spec.CrossAttentionDim,
                ["down_block_types"] = new JsonArray(downTypes.Select(t => (JsonNode?)t).ToArray()),
                ["downsample_padding"] = 1,
                ["flip_sin_to_cos"] = _spec.FlipSinToCos,
                ["freq_shift"] = _spec.FreqShift,
                ["in_channels"] = _spec.InChannels,
                ["layers_per_block"] = layers.Distinct().Count() == 1 ? layers[0] : IntArray(layers),
                ["mid_block_type"] = midType,
                ["norm_eps"] = _spec.Norm.Eps,
                ["norm_num_groups"] = _spec.Norm.Groups,
                ["out_channels"] = _spec.OutChannels,
                ["sample_size"] = _spec.SampleSize,
                ["time_embedding_dim"] = _spec.TimeEmbeddingDim == 4 * c ? null : _spec.TimeEmbeddingDim,
                ["transformer_layers_per_block"] = uniform ? IntArray(downDepths.Select(d => d[0])) : Nested(downDepths),
                ["up_block_types"] = new JsonArray(upTypes.Select(t => (JsonNode?)t).ToArray()),
                ["use_linear_projection"] = _spec.Projection == AttentionProjection.Linear,
            };
            if (!mirrored) config["reverse_transformer_layers_per_block"] = Nested(upDepths);
            if (_spec.AdditionEmbedding is { } add)
            {
                if (add.TimeIdCount != 6) throw new NotExpressibleException($"diffusers' text_time embedding takes 6 time ids, this model {add.TimeIdCount}");
                config["addition_embed_type"] = "text_time";
                config["addition_time_embed_dim"] = add.TimeEmbedDim;
                config["projection_class_embeddings_input_dim"] = add.TextEmbedDim + 6 * add.TimeEmbedDim;
            }
            return config;
        }

        private static JsonArray IntArray(IEnumerable<int> values) => new(values.Select(v => (JsonNode?)v).ToArray());

        private static JsonArray Nested(IEnumerable<List<int>> values) => new(values.Select(v => (JsonNode?)IntArray(v)).ToArray());
    }
}
