using System;
using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// A spec expanded into the U-Net's structure, computed without allocating weights: its components (modules,
    /// each in its typed stage, with every tensor key and exact parameter count) and the steps of its forward
    /// (which component each runs, which push and pop skips, which end a stage). The runtime builds its modules and
    /// its execution plan from this alone; the generator emits it as C# data. Made by <see cref="LayoutBuilder"/>
    /// from a spec, or by <see cref="Create"/> from that data.
    /// </summary>
    public sealed record UNetLayout
    {
        private UNetLayout() { }

        public UNetSpec Spec { get; init; } = new UNetSpec();
        /// <summary>Components of the full (base) model in execution order, removed units included.</summary>
        public EquatableArray<LayoutComponent> Components { get; init; } = EquatableArray<LayoutComponent>.Empty;
        /// <summary>The forward, step by step, over the full model's components (removed units included).</summary>
        public EquatableArray<LayoutStep> Steps { get; init; } = EquatableArray<LayoutStep>.Empty;
        /// <summary>State-dict keys of the full model in diffusers' order.</summary>
        public EquatableArray<TensorKey> StateDictKeys { get; init; } = EquatableArray<TensorKey>.Empty;
        /// <summary>Ids of removed units (from the spec), in execution order.</summary>
        public EquatableArray<string> Removed { get; init; } = EquatableArray<string>.Empty;

        /// <summary>
        /// The layout of <paramref name="spec"/> from its components and steps, as <see cref="LayoutBuilder"/> records
        /// them: fills each component's <see cref="LayoutComponent.Keys"/> and <see cref="LayoutComponent.ParamCount"/>,
        /// the state-dict order and the removed units (<see cref="UNetSpec.Removed"/>).
        /// </summary>
        public static UNetLayout Create(UNetSpec spec, IEnumerable<LayoutComponent> components, IEnumerable<LayoutStep> steps)
        {
            var expanded = components.Select(c =>
            {
                var keys = ComponentKeys.Of(c, spec);
                return c with { Keys = keys.ToEquatableArray(), ParamCount = keys.Sum(k => k.Numel) };
            }).ToList();
            var removed = new HashSet<string>(spec.Removed, StringComparer.Ordinal);
            return new UNetLayout
            {
                Spec = spec,
                Components = expanded.ToEquatableArray(),
                Steps = steps.ToEquatableArray(),
                StateDictKeys = ComponentKeys.StateDictOrder(expanded, spec).ToEquatableArray(),
                Removed = expanded.Where(c => removed.Contains(c.Id)).Select(c => c.Id).ToEquatableArray(),
            };
        }

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
                return StateDictKeys.Where(k => !removed.Any(r => k.Name.StartsWith(r + ".", StringComparison.Ordinal)));
            }
        }

        /// <summary>Labels of the stages whose end output is a distillation feature, in execution order.</summary>
        public IEnumerable<string> FeatureStages => Steps.Where(s => s.EndsStage).Select(s => Components[s.Component].Stage.Label);

        /// <summary>
        /// This layout with <paramref name="unitIds"/> removed as well and, when given, its mid block cut down to
        /// <paramref name="midReduction"/> (SSD-1B's): a student's structure, keys and counts.
        /// </summary>
        /// <exception cref="SpecException">An id is not a prunable unit of this model, or the mid block cannot be cut down so.</exception>
        public UNetLayout WithRemoved(IEnumerable<string> unitIds, MidKind? midReduction = null) =>
            LayoutBuilder.BuildOrThrow(Spec with
            {
                Removed = Spec.Removed.Concat(unitIds).Distinct().ToEquatableArray(),
                Mid = midReduction is MidKind kind ? new MidSpec { Kind = kind, Source = Spec.Mid.Source } : Spec.Mid,
                MidReduction = midReduction ?? Spec.MidReduction,
            }, Spec.Name);
    }
}
