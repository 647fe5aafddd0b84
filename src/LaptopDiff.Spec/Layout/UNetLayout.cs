using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// A spec expanded into components in execution order, with every tensor key and exact parameter
    /// count, computed without allocating weights. The runtime builds its modules from this; the
    /// generator emits its layer table from it.
    /// </summary>
    public sealed record UNetLayout
    {
        public UNetSpec Spec { get; init; } = new UNetSpec();
        /// <summary>Components of the full (base) model in execution order, removed units included.</summary>
        public EquatableArray<LayoutComponent> Components { get; init; } = EquatableArray<LayoutComponent>.Empty;
        /// <summary>State-dict keys of the full model in diffusers' order.</summary>
        public EquatableArray<TensorKey> StateDictKeys { get; init; } = EquatableArray<TensorKey>.Empty;
        /// <summary>Ids of removed units (from the spec), in execution order.</summary>
        public EquatableArray<string> Removed { get; init; } = EquatableArray<string>.Empty;

        /// <summary>Parameters of the full (unpruned) model.</summary>
        public long BaseParamCount => Components.Sum(c => c.ParamCount);

        /// <summary>Parameters that exist in this model: the base minus removed units.</summary>
        public long TotalParamCount => BaseParamCount - RemovedParamCount;

        public long RemovedParamCount
        {
            get
            {
                var removed = new HashSet<string>(Removed);
                return Components.Where(c => removed.Contains(c.Id)).Sum(c => c.ParamCount);
            }
        }

        public IEnumerable<LayoutComponent> Units => Components.Where(c => c.IsUnit);

        public IEnumerable<LayoutComponent> PrunableUnits => Components.Where(c => c.Prunable);

        public bool IsRemoved(string id) => Removed.Contains(id);

        /// <summary>State-dict keys that exist in this model (removed units own none).</summary>
        public IEnumerable<TensorKey> LiveKeys
        {
            get
            {
                var removed = Removed.ToList();
                return StateDictKeys.Where(k => !removed.Any(r => k.Name.StartsWith(r + ".", System.StringComparison.Ordinal)));
            }
        }

        /// <summary>Stage labels whose end output is a distillation feature, in execution order.</summary>
        public IEnumerable<string> FeatureStages
        {
            get
            {
                for (int i = 0; i < Spec.Down.Count; i++) yield return $"down.{i}";
                if (Spec.Mid.Kind != MidKind.None) yield return "mid";
                for (int i = 0; i < Spec.Up.Count; i++) yield return $"up.{i}";
            }
        }
    }
}
