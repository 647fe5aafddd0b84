using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Distillation;

/// <summary>The loss L_task + l_out ||eps_T - eps_S||^2 + l_feat * feature term.</summary>
public sealed record DistillationOptions
{
    public FeatureKd FeatureKd { get; init; } = FeatureKd.Normalized;
    public double OutputWeight { get; init; } = 1.0;
    public double FeatureWeight { get; init; } = 1.0;
    /// <summary>Weight of the task loss ||eps - eps_S||^2 (1 in the paper).</summary>
    public double TaskWeight { get; init; } = 1.0;
    /// <summary>
    /// Recompute each student stage in the backward instead of keeping its activations (<see cref="Execution.ExecutionPlan.Run"/>):
    /// less memory, about one more student forward per step, the same gradients, so not part of the run's identity.
    /// </summary>
    public bool CheckpointActivations { get; init; }
    /// <summary>
    /// The frozen teacher's dtype: float32, or bfloat16 (half its memory; its targets then carry bfloat16 rounding, about
    /// 1e-2 relative, so it is part of the run's identity). The student always trains in float32.
    /// </summary>
    public ScalarType TeacherDtype { get; init; } = ScalarType.Float32;

    public DistillationOptions Validate()
    {
        foreach (var (name, v) in new[] { ("task weight", TaskWeight), ("output weight", OutputWeight), ("feature weight", FeatureWeight) })
            if (!(v >= 0) || !double.IsFinite(v)) throw new ArgumentException($"{name} must be finite and >= 0, got {v}");
        if (TeacherDtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new ArgumentException($"teacher dtype must be float32 or bfloat16, got {TeacherDtype}");
        return this;
    }

    public string KindName => FeatureKd.ToString().ToLowerInvariant();

    public IEnumerable<KeyValuePair<string, string>> IdentityFields()
    {
        var fields = new Dictionary<string, string>
        {
            ["feature_kd"] = KindName,
            ["l_task"] = TaskWeight.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["l_out"] = OutputWeight.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["l_feat"] = FeatureWeight.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (TeacherDtype != ScalarType.Float32) fields["teacher_dtype"] = "bfloat16";   // float32 runs keep their earlier identity
        return fields;
    }
}
