using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// What a handcrafted preset removes from one spec: prunable units (<see cref="Removed"/>, execution order) and,
    /// where the published model also drops structure that is not a unit (SSD-1B's mid attention), the mid block cut
    /// down to <see cref="MidReduction"/>. <see cref="Layout"/> is the pruned model; counts are exact.
    /// </summary>
    public sealed record PresetSelection(string Preset, EquatableArray<string> Removed, MidKind? MidReduction, UNetLayout Layout, long BaseParams)
    {
        /// <summary>Parameters of the pruned model.</summary>
        public long RemainingParams => Layout.TotalParamCount;
        public long RemovedParams => BaseParams - RemainingParams;
        /// <summary>Removed parameters / the full U-Net's.</summary>
        public double AchievedRatio => BaseParams == 0 ? 0 : (double)RemovedParams / BaseParams;

        internal static PresetSelection Create(string preset, UNetLayout baseLayout, IEnumerable<string> removed, MidKind? midReduction)
        {
            var set = new HashSet<string>(removed);
            var ordered = baseLayout.Components.Where(c => set.Contains(c.Id)).Select(c => c.Id).ToEquatableArray();
            return new PresetSelection(preset, ordered, midReduction, baseLayout.WithRemoved(ordered, midReduction), baseLayout.BaseParamCount);
        }
    }
}
