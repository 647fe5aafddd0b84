using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Turns the text of a <c>*.unet.yaml</c> file into a <see cref="UNetSpec"/>. Pure: no file access,
    /// so the source generator and the runtime share it. Structural checks that need the expanded
    /// layout (channels, skips, unit ids) are in <see cref="LayoutBuilder"/>.
    /// </summary>
    public static class SpecParser
    {
        private static readonly string[] StageTypes = { "cross_attn", "plain" };
        private static readonly string[] MidTypes = { "cross_attn", "resnet", "none" };

        public static SpecParseResult Parse(string path, string? text, CancellationToken cancellationToken = default)
        {
            var diagnostics = new List<SpecDiagnostic>();
            var reader = YamlDocument.Load(path, text, YamlDialect.Spec, diagnostics);
            if (reader == null) return new SpecParseResult(path, null, diagnostics.ToEquatableArray());
            cancellationToken.ThrowIfCancellationRequested();
            var spec = reader.Has("base") ? ReadPrunedOverlay(reader) : ReadFull(reader);
            reader.ReportUnknownKeys();
            return new SpecParseResult(path, spec, diagnostics.ToEquatableArray());
        }

        private static UNetSpec ReadFull(YamlMapReader r)
        {
            var name = ReadName(r);
            var norm = new NormSpec();
            var normMap = r.Map("norm");
            if (normMap != null)
            {
                norm = new NormSpec
                {
                    Groups = normMap.Int("groups", min: 1) ?? norm.Groups,
                    Eps = normMap.FiniteNumber("eps") ?? norm.Eps,
                    TransformerEps = normMap.FiniteNumber("transformer_eps") ?? norm.TransformerEps,
                    LayerNormEps = normMap.FiniteNumber("layer_norm_eps") ?? norm.LayerNormEps,
                };
                normMap.ReportUnknownKeys();
            }

            var projection = AttentionProjection.Conv;
            var attention = r.Map("attention");
            if (attention != null)
            {
                var p = attention.String("projection");
                if (p == "linear") projection = AttentionProjection.Linear;
                else if (p != null && p != "conv")
                    attention.Invalid(attention.Node("projection")!, $"attention.projection must be 'conv' or 'linear', got '{p}'");
                attention.ReportUnknownKeys();
            }

            var down = ReadStages(r, "down", isUp: false);
            var up = ReadStages(r, "up", isUp: true);
            int firstChannels = down.Count > 0 ? down[0].Channels : 0;

            int timeDim = 4 * firstChannels;
            bool flip = true;
            int shift = 0;
            var time = r.Map("time_embedding");
            if (time != null)
            {
                timeDim = time.Int("dim", min: 1) ?? timeDim;
                flip = time.Bool("flip_sin_to_cos") ?? flip;
                shift = time.Int("freq_shift", min: 0) ?? shift;
                time.ReportUnknownKeys();
            }

            var prune = ReadPrune(r);
            var removed = r.StringList("removed");
            return new UNetSpec
            {
                Name = name,
                Description = r.String("description"),
                SampleSize = r.Int("sample_size", required: true, min: 1) ?? 0,
                InChannels = r.Int("in_channels", min: 1) ?? 4,
                OutChannels = r.Int("out_channels", min: 1) ?? 4,
                CrossAttentionDim = r.Int("cross_attention_dim", required: down.Any(s => s.Kind == BlockKind.CrossAttn), min: 1) ?? 0,
                TimeEmbeddingDim = timeDim,
                FlipSinToCos = flip,
                FreqShift = shift,
                Norm = norm,
                Projection = projection,
                AdditionEmbedding = ReadAddition(r),
                Down = down.ToEquatableArray(),
                Mid = ReadMid(r, down.Count > 0 ? down[down.Count - 1] : null),
                Up = up.ToEquatableArray(),
                Granularity = prune.Granularity,
                Pinned = prune.Pinned.Select(x => x.Value).ToEquatableArray(),
                Removed = removed.Select(x => x.Value).ToEquatableArray(),
                UnitMentions = Mentions(removed, prune.Pinned),
                Provenance = ReadProvenance(r),
            };
        }

        /// <summary>A pruned spec names its base and lists removals; structure comes from the base.</summary>
        private static UNetSpec ReadPrunedOverlay(YamlMapReader r)
        {
            var removed = r.StringList("removed");
            return new UNetSpec
            {
                Name = ReadName(r),
                Description = r.String("description"),
                Base = r.String("base"),
                BaseSource = r.SpanOf("base"),
                Removed = removed.Select(x => x.Value).ToEquatableArray(),
                UnitMentions = Mentions(removed, new List<(string, SourceSpan)>()),
                Provenance = ReadProvenance(r),
                MidReduction = ReadMidReduction(r),
                MidReductionSource = r.SpanOf("mid"),
            };
        }

        /// <summary>An overlay's optional <c>mid: { type: resnet | none }</c>: the base's mid block cut down (structure can only shrink).</summary>
        private static MidKind? ReadMidReduction(YamlMapReader r)
        {
            var m = r.Map("mid");
            if (m == null) return null;
            var typeText = m.String("type", required: true);
            m.ReportUnknownKeys();
            switch (typeText)
            {
                case "resnet": return MidKind.Resnet;
                case "none": return MidKind.None;
                case null: return null;
                default:
                    m.Report(SpecDiagnosticIds.InvalidValue, m.SpanOf("type"),
                        $"a pruned spec's mid block can only be cut down to 'resnet' (its first ResNet) or 'none', got '{typeText}'");
                    return null;
            }
        }

        private static EquatableArray<UnitMention> Mentions(List<(string Value, SourceSpan Span)> removed, List<(string Value, SourceSpan Span)> pinned) =>
            removed.Select(x => new UnitMention("removed", x.Value, x.Span))
                .Concat(pinned.Select(x => new UnitMention("pinned", x.Value, x.Span)))
                .ToEquatableArray();

        private static string ReadName(YamlMapReader r)
        {
            var name = r.String("name", required: true) ?? "";
            if (name.Length > 0 && !IsIdentifier(name))
                r.Report(SpecDiagnosticIds.InvalidName, r.SpanOf("name"),
                    $"name '{name}' must be a C# identifier (letters, digits, '_', not starting with a digit); it names the generated class");
            return name;
        }

        private static List<StageSpec> ReadStages(YamlMapReader r, string key, bool isUp)
        {
            var stages = new List<StageSpec>();
            var list = r.MapList(key, "stages", "{ type: cross_attn, channels: 320, layers: 2 }");
            if (list == null)
            {
                if (!r.Has(key)) r.Report(SpecDiagnosticIds.MissingKey, r.Span, $"the spec needs '{key}', a list of stages");
                return stages;
            }
            for (int i = 0; i < list.Count; i++)
            {
                var s = list[i];
                var typeText = s.String("type", required: true);
                var kind = BlockKind.Plain;
                if (typeText == "cross_attn") kind = BlockKind.CrossAttn;
                else if (typeText != null && typeText != "plain")
                    s.Report(SpecDiagnosticIds.UnknownBlockType, s.SpanOf("type"),
                        $"'{typeText}' is not a block type; expected one of {string.Join(", ", StageTypes)}");

                int channels = s.Int("channels", required: true, min: 1) ?? 0;
                int layers = s.Int("layers", required: true, min: 1, max: MaxCount) ?? 0;
                int heads = ReadHeads(s, channels, kind == BlockKind.CrossAttn);
                var depth = s.IntOrList("transformer_depth", min: 0, max: MaxCount);
                var perLayer = new List<int>();
                if (kind == BlockKind.CrossAttn)
                {
                    if (depth == null) perLayer.AddRange(Enumerable.Repeat(1, layers));
                    else if (depth.Count == 1) perLayer.AddRange(Enumerable.Repeat(depth[0], layers));
                    else if (depth.Count == layers) perLayer.AddRange(depth);
                    else
                        s.Report(SpecDiagnosticIds.InvalidValue, s.SpanOf("transformer_depth"),
                            $"transformer_depth of {key}[{i}] lists {depth.Count} values but the stage has {layers} layers; give one value or one per layer");
                }
                else if (depth != null)
                    s.Report(SpecDiagnosticIds.InvalidValue, s.SpanOf("transformer_depth"),
                        $"{key}[{i}] is a plain stage; transformer_depth only applies to cross_attn stages");

                bool isLast = i == list.Count - 1;
                bool resample = s.Bool(isUp ? "upsample" : "downsample") ?? !isLast;
                stages.Add(new StageSpec
                {
                    Kind = kind,
                    Channels = channels,
                    Layers = layers,
                    Heads = heads,
                    TransformerDepth = perLayer.ToEquatableArray(),
                    Resample = resample,
                    Source = s.Span,
                });
                s.ReportUnknownKeys();
            }
            return stages;
        }

        private static int ReadHeads(YamlMapReader s, int channels, bool needed)
        {
            var heads = s.Int("heads", min: 1);
            var headDim = s.Int("head_dim", min: 1);
            if (!needed)
            {
                if (heads != null || headDim != null)
                    s.Report(SpecDiagnosticIds.InvalidValue, s.SpanOf(heads != null ? "heads" : "head_dim"),
                        "heads/head_dim only apply to stages with attention");
                return 0;
            }
            if (heads != null && headDim != null)
            {
                s.Report(SpecDiagnosticIds.InvalidValue, s.SpanOf("head_dim"), "give either heads or head_dim, not both");
                return heads.Value;
            }
            if (heads != null) return heads.Value;
            if (headDim != null)
            {
                if (channels % headDim.Value != 0)
                {
                    s.Report(SpecDiagnosticIds.HeadsDoNotDivide, s.SpanOf("head_dim"),
                        $"head_dim {headDim} does not divide the stage's {channels} channels");
                    return 0;
                }
                return channels / headDim.Value;
            }
            s.Report(SpecDiagnosticIds.MissingKey, s.Span, "a stage with attention needs 'heads' or 'head_dim'");
            return 0;
        }

        private static MidSpec ReadMid(YamlMapReader r, StageSpec? lastDown)
        {
            var m = r.Map("mid");
            if (m == null)
            {
                if (!r.Has("mid")) r.Report(SpecDiagnosticIds.MissingKey, r.Span, "the spec needs 'mid': { type: cross_attn | resnet | none }");
                return new MidSpec { Kind = MidKind.None };
            }
            var typeText = m.String("type", required: true);
            MidKind kind = MidKind.CrossAttn;
            switch (typeText)
            {
                case "cross_attn": kind = MidKind.CrossAttn; break;
                case "resnet": kind = MidKind.Resnet; break;
                case "none": kind = MidKind.None; break;
                case null: break;
                default:
                    m.Report(SpecDiagnosticIds.UnknownBlockType, m.SpanOf("type"),
                        $"'{typeText}' is not a mid block type; expected one of {string.Join(", ", MidTypes)}");
                    break;
            }
            // diffusers gives the mid block the last down stage's channels, heads and transformer depth
            int channels = lastDown?.Channels ?? 0;
            int heads = lastDown?.Heads ?? 0;
            int depth = lastDown != null && lastDown.TransformerDepth.Count > 0 ? lastDown.TransformerDepth[lastDown.TransformerDepth.Count - 1] : 1;
            var explicitHeads = m.Int("heads", min: 1);
            var headDim = m.Int("head_dim", min: 1);
            var explicitDepth = m.Int("transformer_depth", min: 0, max: MaxCount);
            if (kind == MidKind.CrossAttn)
            {
                heads = explicitHeads ?? heads;
                if (heads == 0 && headDim == null)
                    m.Report(SpecDiagnosticIds.MissingKey, m.Span, "a cross_attn mid block needs 'heads' or 'head_dim' when the last down stage has no attention");
                depth = explicitDepth ?? depth;
                if (headDim != null)
                {
                    if (channels % headDim.Value == 0) heads = channels / headDim.Value;
                    else m.Report(SpecDiagnosticIds.HeadsDoNotDivide, m.SpanOf("head_dim"), $"mid head_dim {headDim} does not divide its {channels} channels");
                }
            }
            else if (explicitHeads != null || headDim != null || explicitDepth != null)
                m.Report(SpecDiagnosticIds.InvalidValue, m.Span, $"heads, head_dim and transformer_depth only apply to a cross_attn mid block");
            m.ReportUnknownKeys();
            return new MidSpec { Kind = kind, Heads = kind == MidKind.CrossAttn ? heads : 0, TransformerDepth = kind == MidKind.CrossAttn ? depth : 0, Source = m.Span };
        }

        private static AdditionEmbeddingSpec? ReadAddition(YamlMapReader r)
        {
            var a = r.Map("addition_embedding");
            if (a == null) return null;
            var type = a.String("type", required: true);
            if (type != null && type != "text_time")
                a.Report(SpecDiagnosticIds.UnknownBlockType, a.SpanOf("type"), $"addition_embedding type '{type}' is not supported; expected text_time");
            var spec = new AdditionEmbeddingSpec
            {
                TimeEmbedDim = a.Int("time_embed_dim", required: true, min: 2) ?? 0,
                TextEmbedDim = a.Int("text_embed_dim", required: true, min: 1) ?? 0,
                TimeIdCount = a.Int("time_ids", min: 1, max: MaxCount) ?? 6,
            };
            a.ReportUnknownKeys();
            return spec;
        }

        private static (PruneGranularity Granularity, List<(string Value, SourceSpan Span)> Pinned) ReadPrune(YamlMapReader r)
        {
            var p = r.Map("prune");
            if (p == null) return (PruneGranularity.Transformer, new List<(string, SourceSpan)>());
            var g = p.String("granularity");
            var granularity = PruneGranularity.Transformer;
            if (g == "transformer_block") granularity = PruneGranularity.TransformerBlock;
            else if (g != null && g != "transformer")
                p.Invalid(p.Node("granularity")!, $"prune.granularity must be 'transformer' or 'transformer_block', got '{g}'");
            var pinned = p.StringList("pinned");
            p.ReportUnknownKeys();
            return (granularity, pinned);
        }

        private static ProvenanceSpec? ReadProvenance(YamlMapReader r)
        {
            var p = r.Map("provenance");
            if (p == null) return null;
            var result = new ProvenanceSpec
            {
                Criterion = p.String("criterion"),
                Ratio = p.FiniteNumber("ratio"),
                Date = p.String("date"),
                Method = p.String("method"),
            };
            p.ReportUnknownKeys();
            return result;
        }

        /// <summary>Most layers per stage and transformer blocks per transformer (SDXL uses 10 blocks).</summary>
        private const int MaxCount = 64;

        /// <summary>Whether <paramref name="name"/> can name a generated class: letters, digits and '_', not starting with a digit.</summary>
        public static bool IsIdentifier(string name) =>
            name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');
    }
}
