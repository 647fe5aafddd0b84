using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>One parameter tensor: its diffusers state-dict key and shape.</summary>
    public sealed record TensorKey(string Name, EquatableArray<long> Shape)
    {
        public long Numel => Shape.Aggregate(1L, (a, b) => a * b);
        public override string ToString() => $"{Name} [{string.Join(",", Shape)}]";
    }
}
