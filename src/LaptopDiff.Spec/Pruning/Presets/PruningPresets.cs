using System;
using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// The handcrafted baselines (DESIGN "The method" 5), as rules over a spec's structure rather than key lists,
    /// so they apply to any spec of the right shape:
    /// <list type="bullet">
    /// <item><c>bk-sdm-base</c> (SD-1.5-like: every down stage has 2 layers, every up stage 3, transformer granularity):
    /// the second ResNet+attention pair of each down stage and the middle pair of each up stage (BK-SDM's
    /// <c>layers_per_block: 1</c>).</item>
    /// <item><c>bk-sdm-small</c>: the same plus every unit of the mid block (BK-SDM-Small has none).</item>
    /// <item><c>ssd-1b</c> (SDXL-like: down plain/attention/attention with 2 layers, up attention/attention/plain with 3,
    /// an attention mid block, transformer-block granularity): each transformer keeps its first
    /// ceil(depth x t/T) blocks, t/T being SSD-1B's depth over SDXL's at that layer (down 2/2, 4/10; up 4/10, 4/10,
    /// 10/10 and 2/2, 1/2, 1/2), and the mid block is cut down to its first ResNet (SSD-1B's <c>UNetMidBlock2D</c>).
    /// On SDXL itself this is exactly SSD-1B's structure and key set.</item>
    /// </list>
    /// </summary>
    public static class PruningPresets
    {
        public const string BkSdmBase = "bk-sdm-base";
        public const string BkSdmSmall = "bk-sdm-small";
        public const string Ssd1b = "ssd-1b";

        public static IReadOnlyList<string> Names { get; } = new[] { BkSdmBase, BkSdmSmall, Ssd1b };

        /// <summary>SSD-1B's transformer depth over SDXL's, per attention stage and layer: (kept, of).</summary>
        private static readonly (int Kept, int Of)[][] Ssd1bDown = { Array.Empty<(int, int)>(), new[] { (2, 2), (2, 2) }, new[] { (4, 10), (4, 10) } };
        private static readonly (int Kept, int Of)[][] Ssd1bUp = { new[] { (4, 10), (4, 10), (10, 10) }, new[] { (2, 2), (1, 2), (1, 2) }, Array.Empty<(int, int)>() };

        /// <summary>The preset applied to <paramref name="baseLayout"/>, or null with <paramref name="reason"/> saying why it does not apply.</summary>
        /// <exception cref="ArgumentException"><paramref name="preset"/> is not one of <see cref="Names"/>.</exception>
        public static PresetSelection? TryApply(string preset, UNetLayout baseLayout, out string reason)
        {
            if (!Names.Contains(preset))
                throw new ArgumentException($"'{preset}' is not a preset; presets are {string.Join(", ", Names)}", nameof(preset));
            var spec = baseLayout.Spec;
            if (baseLayout.Removed.Count > 0 || spec.Base != null)
            {
                reason = $"{spec.Name} is already pruned; apply a preset to the full model's spec";
                return null;
            }
            var removed = preset == Ssd1b ? Ssd1bUnits(baseLayout, out reason) : BkSdmUnits(baseLayout, preset == BkSdmSmall, out reason);
            if (removed == null) return null;
            var notPrunable = baseLayout.Components.FirstOrDefault(c => removed.Contains(c.Id) && !c.Prunable);
            if (notPrunable != null)
            {
                reason = $"{preset} removes {notPrunable.Id}, which is not prunable in {spec.Name}: {notPrunable.Reason}";
                return null;
            }
            return PresetSelection.Create(preset, baseLayout, removed, preset == Ssd1b ? MidKind.Resnet : (MidKind?)null);
        }

        private static HashSet<string>? BkSdmUnits(UNetLayout layout, bool small, out string reason)
        {
            var spec = layout.Spec;
            string name = small ? BkSdmSmall : BkSdmBase;
            reason = "";
            if (spec.Granularity != PruneGranularity.Transformer)
                reason = $"{name} removes whole ResNet+attention pairs; {spec.Name} prunes single transformer blocks (granularity transformer_block)";
            else if (spec.Down.Any(s => s.Layers != 2) || spec.Up.Any(s => s.Layers != 3))
                reason = $"{name} needs an SD-1.5-like spec (2 layers per down stage, 3 per up stage); {spec.Name} has down {Layers(spec.Down)}, up {Layers(spec.Up)}";
            else if (small && spec.Mid.Kind == MidKind.None)
                reason = $"{name} removes the mid block, and {spec.Name} has none";
            if (reason.Length > 0) return null;

            var removed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var unit in layout.Units)
            {
                bool pair = (unit.Stage.Path == StagePath.Down || unit.Stage.Path == StagePath.Up) && unit.Layer == 1;
                if (pair || (small && unit.Stage == StageId.Mid)) removed.Add(unit.Id);
            }
            return removed;
        }

        private static HashSet<string>? Ssd1bUnits(UNetLayout layout, out string reason)
        {
            var spec = layout.Spec;
            reason = "";
            var downKinds = new[] { BlockKind.Plain, BlockKind.CrossAttn, BlockKind.CrossAttn };
            var upKinds = new[] { BlockKind.CrossAttn, BlockKind.CrossAttn, BlockKind.Plain };
            if (spec.Granularity != PruneGranularity.TransformerBlock)
                reason = $"{Ssd1b} sets per-layer transformer depths; {spec.Name} prunes whole transformers (granularity transformer), use transformer_block";
            else if (!spec.Down.Select(s => s.Kind).SequenceEqual(downKinds) || !spec.Up.Select(s => s.Kind).SequenceEqual(upKinds)
                     || spec.Down.Any(s => s.Layers != 2) || spec.Up.Any(s => s.Layers != 3))
                reason = $"{Ssd1b} needs an SDXL-like spec (down plain/cross_attn/cross_attn with 2 layers, up cross_attn/cross_attn/plain with 3); " +
                         $"{spec.Name} has down {Layers(spec.Down)}, up {Layers(spec.Up)}";
            else if (spec.Mid.Kind != MidKind.CrossAttn)
                reason = $"{Ssd1b} drops the mid block's attention, and {spec.Name}'s mid block has none";
            else if (spec.Pinned.Any(id => id.StartsWith("mid_block.", StringComparison.Ordinal) && id != "mid_block.resnets.0"))
                reason = $"{Ssd1b} cuts the mid block down to its first ResNet, but {spec.Name} pins a unit there";
            if (reason.Length > 0) return null;

            var removed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var block in layout.Units.Where(u => u.Kind == ComponentKind.TransformerBlock && u.Stage != StageId.Mid))
            {
                bool down = block.Stage.Path == StagePath.Down;
                var (kept, of) = (down ? Ssd1bDown : Ssd1bUp)[block.Stage.Index][block.Layer];
                int depth = (down ? spec.Down : spec.Up)[block.Stage.Index].TransformerDepth[block.Layer];
                int keep = (depth * kept + of - 1) / of;    // ceil(depth x kept/of): SDXL's depths give SSD-1B's exactly
                if (block.BlockIndex >= keep) removed.Add(block.Id);
            }
            return removed;
        }

        private static string Layers(EquatableArray<StageSpec> stages) =>
            "[" + string.Join(", ", stages.Select(s => (s.Kind == BlockKind.CrossAttn ? "cross_attn " : "plain ") + s.Layers)) + "]";
    }
}
