using System.Collections.Generic;
using System.Linq;
using LaptopDiff.Spec;
using static LaptopDiff.Generators.Emit.Literals;

namespace LaptopDiff.Generators.Emit
{
    /// <summary>
    /// Writes a layout as C# data: the spec, every component and every step of the forward, passed to
    /// <see cref="UNetLayout.Create"/> (which adds the tensor keys and parameter counts). No YAML at run time.
    /// </summary>
    internal static class LayoutDataEmitter
    {
        private const string Ns = "global::LaptopDiff.Spec.";

        public static void Write(SourceWriter w, UNetLayout layout)
        {
            w.Line("/// <summary>");
            w.Line("/// The layout as data: the spec, every component of the full model in execution order (removed units included)");
            w.Line($"/// and every step of the forward. <see cref=\"{Ns}UNetLayout.Create\"/> adds each component's tensor keys and");
            w.Line("/// parameter count and the state-dict order, as for a spec file loaded at run time.");
            w.Line("/// </summary>");
            w.Line($"private static {Ns}UNetLayout CreateLayout() => {Ns}UNetLayout.Create(");
            w.Indent();
            w.Open($"spec: new {Ns}UNetSpec");
            WriteSpec(w, layout.Spec);
            w.Close("},");
            w.Open($"components: new {Ns}LayoutComponent[]");
            foreach (var c in layout.Components) WriteComponent(w, c);
            w.Close("},");
            w.Open($"steps: new {Ns}LayoutStep[]");
            foreach (var s in layout.Steps) w.Line(Step(s) + $"   // {OneLine(layout.Components[s.Component].Id)}");
            w.Close("});");
            w.Outdent();
        }

        private static void WriteSpec(SourceWriter w, UNetSpec s)
        {
            w.Line($"Name = {String(s.Name)},");
            if (s.Description != null) w.Line($"Description = {String(s.Description)},");
            if (s.Base != null) w.Line($"Base = {String(s.Base)},");
            w.Line($"SampleSize = {Int(s.SampleSize)}, InChannels = {Int(s.InChannels)}, OutChannels = {Int(s.OutChannels)}, CrossAttentionDim = {Int(s.CrossAttentionDim)},");
            w.Line($"TimeEmbeddingDim = {Int(s.TimeEmbeddingDim)}, FlipSinToCos = {Bool(s.FlipSinToCos)}, FreqShift = {Int(s.FreqShift)},");
            w.Line($"Norm = new {Ns}NormSpec {{ Groups = {Int(s.Norm.Groups)}, Eps = {Double(s.Norm.Eps)}, TransformerEps = {Double(s.Norm.TransformerEps)}, LayerNormEps = {Double(s.Norm.LayerNormEps)} }},");
            w.Line($"Projection = {Ns}AttentionProjection.{s.Projection},");
            if (s.AdditionEmbedding is AdditionEmbeddingSpec a)
                w.Line($"AdditionEmbedding = new {Ns}AdditionEmbeddingSpec {{ TimeEmbedDim = {Int(a.TimeEmbedDim)}, TextEmbedDim = {Int(a.TextEmbedDim)}, TimeIdCount = {Int(a.TimeIdCount)} }},");
            WriteStages(w, "Down", s.Down);
            w.Line($"Mid = new {Ns}MidSpec {{ Kind = {Ns}MidKind.{s.Mid.Kind}, Heads = {Int(s.Mid.Heads)}, TransformerDepth = {Int(s.Mid.TransformerDepth)} }},");
            WriteStages(w, "Up", s.Up);
            w.Line($"Granularity = {Ns}PruneGranularity.{s.Granularity},");
            if (s.Pinned.Count > 0) w.Line($"Pinned = {Strings(s.Pinned)},");
            if (s.Removed.Count > 0) w.Line($"Removed = {Strings(s.Removed)},");
            if (s.MidReduction is MidKind reduction) w.Line($"MidReduction = {Ns}MidKind.{reduction},");
            if (s.Provenance is ProvenanceSpec p)
            {
                var fields = new List<string>();
                if (p.Method != null) fields.Add($"Method = {String(p.Method)}");
                if (p.Criterion != null) fields.Add($"Criterion = {String(p.Criterion)}");
                if (p.Ratio is double ratio) fields.Add($"Ratio = {Double(ratio)}");
                if (p.Date != null) fields.Add($"Date = {String(p.Date)}");
                w.Line($"Provenance = new {Ns}ProvenanceSpec {{ {string.Join(", ", fields)} }},");
            }
        }

        private static void WriteStages(SourceWriter w, string name, EquatableArray<StageSpec> stages)
        {
            w.Line($"{name} = {Ns}EquatableArray.Of(");
            w.Indent();
            for (int i = 0; i < stages.Count; i++)
            {
                var s = stages[i];
                var depth = s.TransformerDepth.Count > 0 ? $", TransformerDepth = {Ns}EquatableArray.Of({string.Join(", ", s.TransformerDepth.Select(d => Int(d)))})" : "";
                w.Line($"new {Ns}StageSpec {{ Kind = {Ns}BlockKind.{s.Kind}, Channels = {Int(s.Channels)}, Layers = {Int(s.Layers)}, " +
                       $"Heads = {Int(s.Heads)}{depth}, Resample = {Bool(s.Resample)} }}{(i < stages.Count - 1 ? "," : "),")}");
            }
            if (stages.Count == 0) w.Line("),");
            w.Outdent();
        }

        private static void WriteComponent(SourceWriter w, LayoutComponent c)
        {
            var place = new List<string> { $"Stage = {Stage(c.Stage)}" };
            if (c.Layer >= 0) place.Add($"Layer = {Int(c.Layer)}");
            if (c.BlockIndex >= 0) place.Add($"BlockIndex = {Int(c.BlockIndex)}");
            var shape = new List<string> { $"InChannels = {Int(c.InChannels)}" };
            if (c.SkipChannels > 0) shape.Add($"SkipChannels = {Int(c.SkipChannels)}");
            shape.Add($"OutChannels = {Int(c.OutChannels)}");
            if (c.Heads > 0) shape.Add($"Heads = {Int(c.Heads)}");
            if (c.Depth > 0) shape.Add($"Depth = {Int(c.Depth)}");
            var unit = c.IsUnit ? $"IsUnit = true, Prunable = {Bool(c.Prunable)}, " : "";
            w.Open($"new {Ns}LayoutComponent");
            w.Line($"Id = {String(c.Id)}, MemberName = {String(c.MemberName)}, Kind = {Ns}ComponentKind.{c.Kind}, {string.Join(", ", place)},");
            w.Line($"{string.Join(", ", shape)}, {unit}Reason = {String(c.Reason)},");
            w.Close("},");
        }

        private static string Step(LayoutStep s)
        {
            var args = new List<string> { $"{Ns}StepKind.{s.Kind}", Int(s.Component) };
            if (s.PushesSkip) args.Add("PushesSkip: true");
            if (s.EndsStage) args.Add("EndsStage: true");
            return $"new {Ns}LayoutStep({string.Join(", ", args)}),";
        }

        /// <summary>The C# expression of a stage: <c>StageId.Down(1)</c>, <c>StageId.Mid</c>.</summary>
        public static string Stage(StageId stage) => stage.Path switch
        {
            StagePath.Down => $"{Ns}StageId.Down({Int(stage.Index)})",
            StagePath.Up => $"{Ns}StageId.Up({Int(stage.Index)})",
            _ => $"{Ns}StageId.{stage.Path}",
        };

        private static string Strings(IEnumerable<string> values) => $"{Ns}EquatableArray.Of({string.Join(", ", values.Select(String))})";
    }
}
