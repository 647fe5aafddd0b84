using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace LaptopDiff.Spec
{
    /// <summary>Writes specs back to YAML in the documented layout (what import-diffusers and prune emit).</summary>
    public static class SpecWriter
    {
        /// <summary>The full spec, structure included; a pruned spec is written with its removals inline.</summary>
        public static string Write(UNetSpec spec, string? headerComment = null)
        {
            var w = new StringBuilder();
            Comment(w, headerComment);
            w.Append("name: ").AppendLine(spec.Name);
            if (spec.Description != null) w.Append("description: ").AppendLine(Quote(spec.Description));
            w.Append("sample_size: ").AppendLine(I(spec.SampleSize));
            w.Append("in_channels: ").AppendLine(I(spec.InChannels));
            w.Append("out_channels: ").AppendLine(I(spec.OutChannels));
            if (spec.CrossAttentionDim > 0) w.Append("cross_attention_dim: ").AppendLine(I(spec.CrossAttentionDim));
            w.Append("time_embedding: { dim: ").Append(I(spec.TimeEmbeddingDim))
             .Append(", flip_sin_to_cos: ").Append(spec.FlipSinToCos ? "true" : "false")
             .Append(", freq_shift: ").Append(I(spec.FreqShift)).AppendLine(" }");
            w.Append("norm: { groups: ").Append(I(spec.Norm.Groups)).Append(", eps: ").Append(D(spec.Norm.Eps))
             .Append(", transformer_eps: ").Append(D(spec.Norm.TransformerEps))
             .Append(", layer_norm_eps: ").Append(D(spec.Norm.LayerNormEps)).AppendLine(" }");
            w.Append("attention: { projection: ").Append(spec.Projection == AttentionProjection.Linear ? "linear" : "conv").AppendLine(" }");
            if (spec.AdditionEmbedding is AdditionEmbeddingSpec a)
                w.Append("addition_embedding: { type: text_time, time_embed_dim: ").Append(I(a.TimeEmbedDim))
                 .Append(", text_embed_dim: ").Append(I(a.TextEmbedDim)).Append(", time_ids: ").Append(I(a.TimeIdCount)).AppendLine(" }");
            WriteStages(w, "down", spec.Down, "downsample");
            w.Append("mid: { type: ").Append(MidTypeName(spec.Mid.Kind));
            if (spec.Mid.Kind == MidKind.CrossAttn)
                w.Append(", heads: ").Append(I(spec.Mid.Heads)).Append(", transformer_depth: ").Append(I(spec.Mid.TransformerDepth));
            w.AppendLine(" }");
            WriteStages(w, "up", spec.Up, "upsample");
            w.Append("prune: { granularity: ").Append(spec.Granularity == PruneGranularity.TransformerBlock ? "transformer_block" : "transformer");
            if (spec.Pinned.Count > 0) w.Append(", pinned: ").Append(List(spec.Pinned));
            w.AppendLine(" }");
            if (spec.Removed.Count > 0)
            {
                w.AppendLine("removed:");
                foreach (var id in spec.Removed) w.Append("  - ").AppendLine(id);
            }
            WriteProvenance(w, spec.Provenance);
            return w.ToString();
        }

        /// <summary>
        /// A pruned spec as an overlay on its base file: <c>base:</c>, name, the mid block cut down
        /// (<paramref name="midReduction"/>, when given), removed units, provenance.
        /// </summary>
        public static string WritePruned(string baseFile, string name, IEnumerable<string> removed, ProvenanceSpec? provenance, string? headerComment = null,
            MidKind? midReduction = null)
        {
            var w = new StringBuilder();
            Comment(w, headerComment);
            w.Append("base: ").AppendLine(baseFile);
            w.Append("name: ").AppendLine(name);
            if (midReduction is MidKind mid)
                w.Append("mid: { type: ").Append(MidTypeName(mid)).AppendLine(" }");
            w.AppendLine("removed:");
            foreach (var id in removed) w.Append("  - ").AppendLine(id);
            WriteProvenance(w, provenance);
            return w.ToString();
        }

        private static void WriteStages(StringBuilder w, string key, EquatableArray<StageSpec> stages, string resampleKey)
        {
            w.Append(key).AppendLine(":");
            for (int i = 0; i < stages.Count; i++)
            {
                var s = stages[i];
                w.Append("  - { type: ").Append(s.Kind == BlockKind.CrossAttn ? "cross_attn" : "plain")
                 .Append(", channels: ").Append(I(s.Channels)).Append(", layers: ").Append(I(s.Layers));
                if (s.Kind == BlockKind.CrossAttn)
                {
                    w.Append(", heads: ").Append(I(s.Heads)).Append(", transformer_depth: ");
                    w.Append(s.TransformerDepth.Distinct().Count() == 1 ? I(s.TransformerDepth[0]) : List(s.TransformerDepth.Select(I)));
                }
                bool defaultResample = i < stages.Count - 1;
                if (s.Resample != defaultResample) w.Append(", ").Append(resampleKey).Append(": ").Append(s.Resample ? "true" : "false");
                w.AppendLine(" }");
            }
        }

        private static void WriteProvenance(StringBuilder w, ProvenanceSpec? p)
        {
            if (p == null) return;
            w.AppendLine("provenance:");
            if (p.Method != null) w.Append("  method: ").AppendLine(Quote(p.Method));
            if (p.Criterion != null) w.Append("  criterion: ").AppendLine(Quote(p.Criterion));
            if (p.Ratio != null) w.Append("  ratio: ").AppendLine(D(p.Ratio.Value));
            if (p.Date != null) w.Append("  date: ").AppendLine(Quote(p.Date));
            if (p.Losses.Count == 0) return;
            w.AppendLine("  losses:");
            foreach (var u in p.Losses) w.Append("    ").Append(u.Id).Append(": ").AppendLine(D(u.Loss));
        }

        private static void Comment(StringBuilder w, string? text)
        {
            if (text == null) return;
            foreach (var line in text.Replace("\r", "").Split('\n')) w.Append("# ").AppendLine(line);
        }

        /// <summary>The YAML name of a mid block type (<c>mid: { type: ... }</c>).</summary>
        internal static string MidTypeName(MidKind kind) => kind switch { MidKind.CrossAttn => "cross_attn", MidKind.Resnet => "resnet", _ => "none" };

        private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        private static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items) + "]";
        private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }
}
