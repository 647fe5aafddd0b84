using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Expands a <see cref="UNetSpec"/> the way diffusers' <c>UNet2DConditionModel.__init__</c> does:
    /// walks down stages, mid and up stages, tracking hidden and skip channels, and records each
    /// component's tensors, prunability and the diffusers state-dict order.
    /// </summary>
    public static class LayoutBuilder
    {
        public static (UNetLayout? Layout, EquatableArray<SpecDiagnostic> Diagnostics) Build(UNetSpec spec, string path)
        {
            var b = new Builder(spec, path);
            b.Run();
            return (b.Diagnostics.Count == 0 ? b.Result() : null, b.Diagnostics.ToEquatableArray());
        }

        /// <summary>The layout, or a <see cref="SpecException"/> listing every problem.</summary>
        public static UNetLayout BuildOrThrow(UNetSpec spec, string path)
        {
            var (layout, diagnostics) = Build(spec, path);
            if (layout == null) throw new SpecException(diagnostics);
            return layout;
        }

        private sealed class Builder
        {
            private readonly UNetSpec _spec;
            private readonly string _path;
            private readonly HashSet<string> _pinned;
            private readonly List<LayoutComponent> _components = new List<LayoutComponent>();
            private readonly List<TensorKey> _keys = new List<TensorKey>();
            // diffusers' key order inside a Transformer2D (norm, proj_in, blocks, proj_out) differs
            // from how the shell and block components split its tensors
            private readonly Dictionary<string, List<TensorKey>> _transformerKeyOrder = new Dictionary<string, List<TensorKey>>();
            public readonly List<SpecDiagnostic> Diagnostics = new List<SpecDiagnostic>();

            public Builder(UNetSpec spec, string path)
            {
                _spec = spec;
                _path = path;
                _pinned = new HashSet<string>(spec.Pinned);
            }

            public UNetLayout Result() => new UNetLayout
            {
                Spec = _spec,
                Components = _components.ToEquatableArray(),
                StateDictKeys = _keys.ToEquatableArray(),
                Removed = _components.Where(c => _spec.Removed.Contains(c.Id)).Select(c => c.Id).ToEquatableArray(),
            };

            public void Run()
            {
                if (_spec.Down.Count == 0)
                {
                    Error(SpecDiagnosticIds.MissingKey, default, "the spec needs at least one down stage");
                    return;
                }
                int c0 = _spec.Down[0].Channels;
                int t = _spec.TimeEmbeddingDim;
                bool anyAttention = _spec.Down.Concat(_spec.Up).Any(s => s.Kind == BlockKind.CrossAttn) || _spec.Mid.Kind == MidKind.CrossAttn;
                if (anyAttention && _spec.CrossAttentionDim <= 0)
                    Error(SpecDiagnosticIds.MissingKey, default, "stages with attention need 'cross_attention_dim'");

                // Registration order of UNet2DConditionModel: conv_in, time_embedding, add_embedding,
                // down_blocks, up_blocks, mid_block, conv_norm_out, conv_out. Execution order differs
                // (mid runs before up), so components are collected apart and ordered at the end.
                var convIn = Component("conv_in", "ConvIn", ComponentKind.ConvIn, "stem", _spec.InChannels, c0,
                    Conv("conv_in", c0, _spec.InChannels, 3));
                var time = Component("time_embedding", "TimeEmbedding", ComponentKind.TimeEmbedding, "stem", c0, t,
                    Linear("time_embedding.linear_1", t, c0).Concat(Linear("time_embedding.linear_2", t, t)));
                LayoutComponent? addition = null;
                if (_spec.AdditionEmbedding is AdditionEmbeddingSpec add)
                {
                    if (add.TimeEmbedDim % 2 != 0)
                        Error(SpecDiagnosticIds.InvalidValue, default, $"addition_embedding.time_embed_dim must be even, got {add.TimeEmbedDim}");
                    addition = Component("add_embedding", "AdditionEmbedding", ComponentKind.AdditionEmbedding, "stem",
                        add.ProjectionInputDim, t,
                        Linear("add_embedding.linear_1", t, add.ProjectionInputDim).Concat(Linear("add_embedding.linear_2", t, t)));
                }
                AddKeys(convIn, time, addition);

                var execution = new List<LayoutComponent> { time };
                if (addition != null) execution.Add(addition);
                execution.Add(convIn);

                int h = c0;
                var skips = new Stack<int>();
                skips.Push(h);
                CheckGroups(c0, "conv_in output", default);
                for (int i = 0; i < _spec.Down.Count; i++)
                {
                    var stage = _spec.Down[i];
                    var stageLabel = $"down.{i}";
                    var prefix = $"down_blocks.{i}";
                    var attentions = new List<LayoutComponent>();
                    var resnets = new List<LayoutComponent>();
                    for (int j = 0; j < stage.Layers; j++)
                    {
                        var resnet = Resnet($"{prefix}.resnets.{j}", $"Down{i}Resnet{j}", stageLabel, i, j, h, 0, stage.Channels, stage.Source,
                            h == stage.Channels ? "input and output channels are equal" : $"changes channels {h} -> {stage.Channels}");
                        resnets.Add(resnet);
                        execution.Add(resnet);
                        h = stage.Channels;
                        if (stage.Kind == BlockKind.CrossAttn)
                        {
                            var parts = Transformer($"{prefix}.attentions.{j}", $"Down{i}Attention{j}", stageLabel, i, j, h, stage.Heads, stage.TransformerDepth[j], stage.Source);
                            attentions.AddRange(parts);
                            execution.AddRange(parts);
                        }
                        skips.Push(h);
                    }
                    var sampler = new List<LayoutComponent>();
                    if (stage.Resample)
                    {
                        var down = Component($"{prefix}.downsamplers.0", $"Down{i}Downsampler", ComponentKind.Downsampler, stageLabel, h, h,
                            Conv($"{prefix}.downsamplers.0.conv", h, h, 3), i);
                        sampler.Add(down);
                        execution.Add(down);
                        skips.Push(h);
                    }
                    AddKeys(attentions.Concat(resnets).Concat(sampler).ToArray());
                }

                var midComponents = new List<LayoutComponent>();
                var midKeysOrder = new List<LayoutComponent>();
                if (_spec.Mid.Kind != MidKind.None)
                {
                    var r0 = Resnet("mid_block.resnets.0", "MidResnet0", "mid", -1, 0, h, 0, h, _spec.Mid.Source, "input and output channels are equal");
                    midComponents.Add(r0);
                    if (_spec.Mid.Kind == MidKind.CrossAttn)
                    {
                        var attention = Transformer("mid_block.attentions.0", "MidAttention0", "mid", -1, 0, h, _spec.Mid.Heads, _spec.Mid.TransformerDepth, _spec.Mid.Source);
                        var r1 = Resnet("mid_block.resnets.1", "MidResnet1", "mid", -1, 1, h, 0, h, _spec.Mid.Source, "input and output channels are equal");
                        midComponents.AddRange(attention);
                        midComponents.Add(r1);
                        midKeysOrder.AddRange(attention);
                        midKeysOrder.Add(r0);
                        midKeysOrder.Add(r1);
                    }
                    else midKeysOrder.Add(r0);
                }
                execution.AddRange(midComponents);

                int consumed = _spec.Up.Sum(s => s.Layers);
                if (consumed != skips.Count)
                    Error(SpecDiagnosticIds.SkipCountMismatch, _spec.Up.Count > 0 ? _spec.Up[0].Source : default,
                        $"the down path produces {skips.Count} skip connections (conv_in, each down layer, each downsampler) but the up stages consume {consumed} (one per up layer); up stages usually have one layer more than the matching down stage");
                for (int i = 0; i < _spec.Up.Count; i++)
                {
                    var stage = _spec.Up[i];
                    var stageLabel = $"up.{i}";
                    var prefix = $"up_blocks.{i}";
                    var attentions = new List<LayoutComponent>();
                    var resnets = new List<LayoutComponent>();
                    for (int j = 0; j < stage.Layers; j++)
                    {
                        int skip = skips.Count > 0 ? skips.Pop() : 0;
                        // Removing an up ResNet drops the skip it consumed; identity is valid only if h already has the output channels.
                        var reason = h == stage.Channels
                            ? "identity keeps channels; its skip is dropped"
                            : $"changes channels {h} -> {stage.Channels}";
                        var resnet = Resnet($"{prefix}.resnets.{j}", $"Up{i}Resnet{j}", stageLabel, i, j, h, skip, stage.Channels, stage.Source, reason, upPrunable: h == stage.Channels);
                        resnets.Add(resnet);
                        execution.Add(resnet);
                        h = stage.Channels;
                        if (stage.Kind == BlockKind.CrossAttn)
                        {
                            var parts = Transformer($"{prefix}.attentions.{j}", $"Up{i}Attention{j}", stageLabel, i, j, h, stage.Heads, stage.TransformerDepth[j], stage.Source);
                            attentions.AddRange(parts);
                            execution.AddRange(parts);
                        }
                    }
                    var sampler = new List<LayoutComponent>();
                    if (stage.Resample)
                    {
                        var up = Component($"{prefix}.upsamplers.0", $"Up{i}Upsampler", ComponentKind.Upsampler, stageLabel, h, h,
                            Conv($"{prefix}.upsamplers.0.conv", h, h, 3), i);
                        sampler.Add(up);
                        execution.Add(up);
                    }
                    AddKeys(attentions.Concat(resnets).Concat(sampler).ToArray());
                }
                AddKeys(midKeysOrder.ToArray());

                CheckGroups(h, "the output norm", default);
                var head = Component("conv_norm_out", "OutputHead", ComponentKind.OutputHead, "head", h, _spec.OutChannels,
                    Norm("conv_norm_out", h).Concat(Conv("conv_out", _spec.OutChannels, h, 3)));
                execution.Add(head);
                AddKeys(head);

                _components.AddRange(execution);
                CheckUnitLists();
            }

            private LayoutComponent Resnet(string id, string member, string stage, int stageIndex, int layer, int h, int skip, int outChannels,
                SourceSpan source, string reason, bool? upPrunable = null)
            {
                int inChannels = h + skip;
                CheckGroups(inChannels, $"{id} input", source);
                CheckGroups(outChannels, $"{id} output", source);
                var keys = new List<TensorKey>();
                keys.AddRange(Norm($"{id}.norm1", inChannels));
                keys.AddRange(Conv($"{id}.conv1", outChannels, inChannels, 3));
                keys.AddRange(Linear($"{id}.time_emb_proj", outChannels, _spec.TimeEmbeddingDim));
                keys.AddRange(Norm($"{id}.norm2", outChannels));
                keys.AddRange(Conv($"{id}.conv2", outChannels, outChannels, 3));
                if (inChannels != outChannels) keys.AddRange(Conv($"{id}.conv_shortcut", outChannels, inChannels, 1));
                bool shapeOk = upPrunable ?? h == outChannels;
                return Unit(new LayoutComponent
                {
                    Id = id, MemberName = member, Kind = ComponentKind.Resnet, Stage = stage, StageIndex = stageIndex, Layer = layer,
                    InChannels = h, SkipChannels = skip, OutChannels = outChannels, Keys = keys.ToEquatableArray(),
                    ParamCount = keys.Sum(k => k.Numel),
                }, shapeOk, reason);
            }

            /// <summary>A Transformer2DModel: one unit, or a shell plus one unit per block (by granularity).</summary>
            private List<LayoutComponent> Transformer(string id, string member, string stage, int stageIndex, int layer, int channels, int heads, int depth, SourceSpan source)
            {
                if (heads <= 0 || channels % heads != 0)
                    Error(SpecDiagnosticIds.HeadsDoNotDivide, source, $"{id}: {heads} heads do not divide {channels} channels");
                CheckGroups(channels, $"{id} norm", source);
                var shellIn = Norm($"{id}.norm", channels).Concat(Projection($"{id}.proj_in", channels)).ToList();
                var shellOut = Projection($"{id}.proj_out", channels).ToList();
                var blocks = new List<List<TensorKey>>();
                for (int k = 0; k < depth; k++) blocks.Add(TransformerBlockKeys($"{id}.transformer_blocks.{k}", channels));

                var result = new List<LayoutComponent>();
                var all = shellIn.Concat(blocks.SelectMany(x => x)).Concat(shellOut).ToList();
                _transformerKeyOrder[id] = all;
                if (_spec.Granularity == PruneGranularity.Transformer)
                {
                    result.Add(Unit(new LayoutComponent
                    {
                        Id = id, MemberName = member, Kind = ComponentKind.Transformer, Stage = stage, StageIndex = stageIndex, Layer = layer,
                        InChannels = channels, OutChannels = channels, Heads = heads, Depth = depth,
                        Keys = all.ToEquatableArray(), ParamCount = all.Sum(x => x.Numel),
                    }, true, "residual transformer"));
                    return result;
                }
                var shell = shellIn.Concat(shellOut).ToList();
                result.Add(new LayoutComponent
                {
                    Id = id, MemberName = member, Kind = ComponentKind.Transformer, Stage = stage, StageIndex = stageIndex, Layer = layer,
                    InChannels = channels, OutChannels = channels, Heads = heads, Depth = depth,
                    Keys = shell.ToEquatableArray(), ParamCount = shell.Sum(x => x.Numel),
                    Reason = "transformer shell (norm, proj_in, proj_out); its blocks are the units",
                });
                for (int k = 0; k < depth; k++)
                {
                    result.Add(Unit(new LayoutComponent
                    {
                        Id = $"{id}.transformer_blocks.{k}", MemberName = $"{member}Block{k}", Kind = ComponentKind.TransformerBlock,
                        Stage = stage, StageIndex = stageIndex, Layer = layer, BlockIndex = k,
                        InChannels = channels, OutChannels = channels, Heads = heads,
                        Keys = blocks[k].ToEquatableArray(), ParamCount = blocks[k].Sum(x => x.Numel),
                    }, true, "residual transformer block"));
                }
                return result;
            }

            private List<TensorKey> TransformerBlockKeys(string id, int c)
            {
                int x = _spec.CrossAttentionDim;
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

            private IEnumerable<TensorKey> Projection(string id, int c) =>
                _spec.Projection == AttentionProjection.Linear ? Linear(id, c, c) : Conv(id, c, c, 1);

            private LayoutComponent Component(string id, string member, ComponentKind kind, string stage, int inChannels, int outChannels,
                IEnumerable<TensorKey> keys, int stageIndex = -1)
            {
                var list = keys.ToList();
                return new LayoutComponent
                {
                    Id = id, MemberName = member, Kind = kind, Stage = stage, StageIndex = stageIndex, InChannels = inChannels, OutChannels = outChannels,
                    Keys = list.ToEquatableArray(), ParamCount = list.Sum(k => k.Numel), Reason = "structural",
                };
            }

            private LayoutComponent Unit(LayoutComponent c, bool shapeOk, string reason)
            {
                bool pinned = _pinned.Contains(c.Id);
                return c with
                {
                    IsUnit = true,
                    Prunable = shapeOk && !pinned,
                    Reason = pinned ? "pinned in spec" : reason,
                };
            }

            private void AddKeys(params LayoutComponent?[] components)
            {
                foreach (var c in components)
                {
                    if (c == null || c.Kind == ComponentKind.TransformerBlock) continue;
                    _keys.AddRange(c.Kind == ComponentKind.Transformer ? _transformerKeyOrder[c.Id] : (IEnumerable<TensorKey>)c.Keys);
                }
            }

            private void CheckUnitLists()
            {
                var byId = _components.ToDictionary(c => c.Id);
                foreach (var id in _spec.Pinned)
                    if (!byId.TryGetValue(id, out var c) || !c.IsUnit)
                        Error(SpecDiagnosticIds.UnknownUnit, Mention("pinned", id), $"pinned unit '{id}' is not a unit of this model; units are ids such as {Example()}");
                foreach (var id in _spec.Removed)
                {
                    if (!byId.TryGetValue(id, out var c) || !c.IsUnit)
                        Error(SpecDiagnosticIds.UnknownUnit, Mention("removed", id), $"removed unit '{id}' is not a unit of this model; units are ids such as {Example()}");
                    else if (!c.Prunable)
                        Error(SpecDiagnosticIds.NotPrunable, Mention("removed", id), $"removed unit '{id}' is not prunable: {c.Reason}");
                }
            }

            private SourceSpan Mention(string list, string id) =>
                _spec.UnitMentions.FirstOrDefault(m => m.List == list && m.Id == id).Span;

            private string Example() => string.Join(", ", _components.Where(c => c.IsUnit).Take(3).Select(c => c.Id));

            private void CheckGroups(int channels, string what, SourceSpan source)
            {
                if (channels % _spec.Norm.Groups != 0)
                    Error(SpecDiagnosticIds.InconsistentChannels, source,
                        $"{what} has {channels} channels, not divisible by norm.groups = {_spec.Norm.Groups}");
            }

            private void Error(string id, SourceSpan span, string message)
            {
                var d = new SpecDiagnostic(id, SpecDiagnosticIds.TitleOf(id), message, _path, span);
                if (!Diagnostics.Contains(d)) Diagnostics.Add(d);
            }

            private static TensorKey Key(string name, params long[] shape) => new TensorKey(name, shape.ToEquatableArray());
            private static IEnumerable<TensorKey> Conv(string id, int outC, int inC, int k) =>
                new[] { Key($"{id}.weight", outC, inC, k, k), Key($"{id}.bias", outC) };
            private static IEnumerable<TensorKey> Linear(string id, int outF, int inF) =>
                new[] { Key($"{id}.weight", outF, inF), Key($"{id}.bias", outF) };
            private static IEnumerable<TensorKey> Norm(string id, int c) =>
                new[] { Key($"{id}.weight", c), Key($"{id}.bias", c) };
        }
    }
}
