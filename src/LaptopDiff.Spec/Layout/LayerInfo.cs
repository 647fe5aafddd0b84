using System;
using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// One row of a U-Net's layer table: a component that exists in the model, in execution order.
    /// Generated classes embed their table as constants (<c>Sd15UNet.LayerTable</c>); <see cref="TableOf"/>
    /// gives the same rows for a layout loaded at run time.
    /// </summary>
    /// <param name="Id">The component id, its diffusers key prefix (<c>down_blocks.1.resnets.0</c>); the unit id
    /// that <c>removed:</c> lists and criterion files use.</param>
    /// <param name="Kind">The <see cref="ComponentKind"/> name: <c>Resnet</c>, <c>Transformer</c>, <c>TransformerBlock</c>, ...</param>
    /// <param name="Stage">Stage label: <c>stem</c>, <c>down.0</c>, <c>mid</c>, <c>up.2</c> or <c>head</c>.</param>
    /// <param name="ParamCount">Exact parameters the component owns.</param>
    /// <param name="Prunable">Whether replacing it by identity keeps every shape valid (and it is not pinned).</param>
    /// <param name="Reason">Why it is or is not prunable.</param>
    /// <param name="KeyPrefix">The state-dict prefix all its tensors share: <c>Id + "."</c>, or "" for the output
    /// head (it owns <c>conv_norm_out.*</c> and <c>conv_out.*</c>). A Transformer2D shell's prefix also covers its
    /// blocks' keys.</param>
    /// <param name="IsUnit">Whether it is a unit: a ResNet or a transformer at the spec's granularity.</param>
    /// <param name="MemberName">Its C# name, e.g. <c>Down1Resnet0</c> (a unit's member of the generated <c>Unit</c> enum).</param>
    public sealed record LayerInfo(
        string Id, string Kind, string Stage, long ParamCount, bool Prunable, string Reason, string KeyPrefix,
        bool IsUnit = false, string MemberName = "")
    {
        /// <summary>
        /// The rows of a layout: every component in execution order except removed units, which do not
        /// exist in a pruned model at all.
        /// </summary>
        public static IReadOnlyList<LayerInfo> TableOf(UNetLayout layout)
        {
            var removed = new HashSet<string>(layout.Removed, StringComparer.Ordinal);
            return layout.Components
                .Where(c => !removed.Contains(c.Id))
                .Select(c => new LayerInfo(c.Id, c.Kind.ToString(), c.Stage.Label, c.ParamCount, c.Prunable,
                    c.Reason.Length > 0 ? c.Reason : "not a unit", KeyPrefixOf(c), c.IsUnit, c.MemberName))
                .ToList();
        }

        /// <summary><c>Id + "."</c> when every key starts with it (all but the output head), else their common prefix.</summary>
        private static string KeyPrefixOf(LayoutComponent c)
        {
            var prefix = c.Id + ".";
            return c.Keys.All(k => k.Name.StartsWith(prefix, StringComparison.Ordinal)) ? prefix : CommonKeyPrefix(c.Keys.Select(k => k.Name));
        }

        /// <summary>The longest prefix ending in '.' that every key starts with ("" when none).</summary>
        public static string CommonKeyPrefix(IEnumerable<string> keys)
        {
            string? prefix = null;
            foreach (var key in keys)
            {
                if (prefix == null) { prefix = key.Substring(0, key.LastIndexOf('.') + 1); continue; }
                while (prefix.Length > 0 && !key.StartsWith(prefix, StringComparison.Ordinal))
                    prefix = prefix.Length < 2 ? "" : prefix.Substring(0, prefix.LastIndexOf('.', prefix.Length - 2) + 1);
            }
            return prefix ?? "";
        }
    }
}
