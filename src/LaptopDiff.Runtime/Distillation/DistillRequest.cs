using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Distillation;

/// <summary>What <c>laptop-diff distill</c> runs.</summary>
public sealed record DistillRequest
{
    public required UNetLayout Teacher { get; init; }
    public required string TeacherWeights { get; init; }
    /// <summary>The teacher's class conditioner (frozen, shared with the student); labelled data needs one.</summary>
    public string? Conditioner { get; init; }
    /// <summary>The pruned spec (<c>base:</c> the teacher's spec).</summary>
    public required UNetLayout Student { get; init; }
    /// <summary>Initial student weights (<c>prune --student-weights</c>); default: the teacher's tensors of the surviving units.</summary>
    public string? StudentWeights { get; init; }
    public required string DataPath { get; init; }
    public required TrainingOptions Options { get; init; }
    public DistillationOptions Distillation { get; init; } = new();
    public required string OutputDir { get; init; }
    public bool Resume { get; init; }
    /// <summary>What computes the feature loss: the fused kernels by default.</summary>
    public LossImplementation Kernels { get; init; } = LossImplementation.Auto;
}
