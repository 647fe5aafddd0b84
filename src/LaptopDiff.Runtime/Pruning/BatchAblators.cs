using LaptopDiff.Runtime.Execution;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>
/// Computes the single-unit ablations of one calibration batch and hands each group's per-(ablation,
/// sample) squared-error sums to the caller.
/// </summary>
internal abstract class BatchAblator(UNet2DCondition model, IAblationLossReducer reducer)
{
    protected ExecutionPlan Plan => model.Plan;
    protected UNet2DCondition Model => model;
    protected IAblationLossReducer Reducer => reducer;

    public long TeacherForwards { get; protected set; }
    public long AblatedForwards { get; protected set; }

    /// <param name="inputs">The batch (B samples).</param>
    /// <param name="units">Plan unit indices to ablate, in execution order.</param>
    /// <param name="onGroup">Called per group: its units and sums[a * B + b].</param>
    public abstract void Run(UNetInputs inputs, IReadOnlyList<int> units, Action<IReadOnlyList<int>, double[]> onGroup);

    protected double[] Reduce(Tensor teacher, Tensor ablated)   // [B,...], [A,B,...]
    {
        var sums = new double[ablated.shape[0] * ablated.shape[1]];
        Reducer.SquaredErrorSums(teacher, ablated.contiguous(), sums);
        return sums;
    }
}

/// <summary>The reference: a full forward per unit, that unit masked (<see cref="UNet2DCondition.Forward"/>).</summary>
internal sealed class NaiveAblator(UNet2DCondition model, IAblationLossReducer reducer) : BatchAblator(model, reducer)
{
    public override void Run(UNetInputs inputs, IReadOnlyList<int> units, Action<IReadOnlyList<int>, double[]> onGroup)
    {
        using var scope = NewDisposeScope();
        var teacher = Model.Forward(inputs).Sample;                                     // [B,Cout,H,W]
        TeacherForwards++;
        foreach (var u in units)
        {
            using var unitScope = NewDisposeScope();
            var ablated = Model.Forward(inputs, Plan.Mask(Plan.Units[u].Id)).Sample;    // [B,Cout,H,W]
            AblatedForwards++;
            onGroup(new[] { u }, Reduce(teacher, ablated.unsqueeze(0)));
        }
    }
}

/// <summary>
/// Prefix caching: one teacher forward per batch captures the state before every unit to ablate; each
/// ablation resumes from its unit's state with the unit masked, so the shared prefix runs once. With
/// <c>ablationsPerForward</c> = A &gt; 1, A consecutive units share one suffix forward: each is advanced
/// from its own state to just past the group's last unit, and the A states run on as one batch of A x B.
/// </summary>
internal sealed class PrefixCachedAblator(UNet2DCondition model, IAblationLossReducer reducer, int ablationsPerForward)
    : BatchAblator(model, reducer)
{
    public override void Run(UNetInputs inputs, IReadOnlyList<int> units, Action<IReadOnlyList<int>, double[]> onGroup)
    {
        using var scope = NewDisposeScope();
        var states = new Dictionary<int, PlanState>();                                  // by step index
        try
        {
            var teacher = Plan.RunCapturing(inputs, units.Select(Plan.StepOfUnit), s => states.Add(s.StepIndex, s)).Sample;   // [B,Cout,H,W]
            TeacherForwards++;
            long batch = teacher.shape[0];
            foreach (var group in units.Chunk(ablationsPerForward))
            {
                using var groupScope = NewDisposeScope();
                var ablated = group.Length == 1 ? Single(states, group[0]).unsqueeze(0) : Grouped(states, group);   // [A,B,Cout,H,W]
                AblatedForwards++;
                onGroup(group, Reduce(teacher, ablated.reshape(new[] { (long)group.Length, batch }.Concat(teacher.shape.Skip(1)).ToArray())));
                foreach (var u in group)                                                 // this unit's prefix is no longer needed
                {
                    int step = Plan.StepOfUnit(u);
                    states[step].Dispose();
                    states.Remove(step);
                }
            }
        }
        finally
        {
            foreach (var s in states.Values) s.Dispose();
        }
    }

    private Tensor Single(Dictionary<int, PlanState> states, int unit) =>
        Plan.RunFrom(states[Plan.StepOfUnit(unit)], Plan.Mask(Plan.Units[unit].Id)).Sample;   // [B,Cout,H,W]

    private Tensor Grouped(Dictionary<int, PlanState> states, int[] group)
    {
        int join = Plan.StepOfUnit(group[^1]) + 1;                                       // just past the last masked unit
        var advanced = new List<PlanState>();
        try
        {
            foreach (var u in group)
                advanced.Add(Plan.Advance(states[Plan.StepOfUnit(u)], join, Plan.Mask(Plan.Units[u].Id)));
            using var joined = StateBatch.Concat(advanced);                              // batch A*B, ablation-major
            return Plan.RunFrom(joined).Sample;                                          // [A*B,Cout,H,W]
        }
        finally
        {
            foreach (var s in advanced) s.Dispose();
        }
    }
}
