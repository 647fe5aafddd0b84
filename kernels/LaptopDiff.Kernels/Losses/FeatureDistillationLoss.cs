using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// The distillation feature loss over K stage-feature pairs, fused. When a gradient will be needed,
/// the forward reads the teacher features once for their norms and then each pair once more, writing
/// dL/dF_S^k = 2 w_k (F_S^k - F_T^k) / den_k in the same pass that sums the squared error; the backward
/// hands that tensor to autograd (scaled by the upstream gradient g when g != 1). Without a gradient,
/// the forward is one read of each pair. Multi-tensor: one call covers all K pairs. <see cref="Apply(IReadOnlyList{torch.Tensor}, IReadOnlyList{torch.Tensor}, IReadOnlyList{double}, out FeatureLossValues)"/>
/// returns a differentiable scalar that composes with any other TorchSharp loss.
/// </summary>
public sealed class FeatureDistillationLoss(ILossKernels kernels, FeatureLossOptions? options = null)
{
    public ILossKernels Kernels { get; } = kernels ?? throw new ArgumentNullException(nameof(kernels));
    public FeatureLossOptions Options { get; } = Validate(options ?? FeatureLossOptions.Default);

    /// <summary>
    /// The loss as a 0-dim float32 tensor on autograd's graph (through <see cref="FeatureLossFunction"/>).
    /// Student features receive gradients; teacher features must not require grad (run the teacher
    /// under no_grad or detach them), since the frozen teacher gets none.
    /// </summary>
    public torch.Tensor Apply(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        IReadOnlyList<double> weights, out FeatureLossValues values)
    {
        CheckCall(teacher, student, weights);
        bool training = torch.is_grad_enabled() && student.Any(s => s.requires_grad);
        var call = new FeatureLossCall(this, teacher.Count, weights.ToArray(), training);
        var args = new object[2 * teacher.Count + 1];
        for (int k = 0; k < teacher.Count; k++)
        {
            args[k] = teacher[k];
            args[teacher.Count + k] = student[k];
        }
        args[^1] = call;
        var loss = FeatureLossFunction.apply(args);
        values = call.Values ?? throw new InvalidOperationException("feature loss forward produced no values");
        return loss;
    }

    public torch.Tensor Apply(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        IReadOnlyList<double> weights) => Apply(teacher, student, weights, out _);

    /// <summary>The forward only, no graph: values for logging and validation.</summary>
    public FeatureLossValues Evaluate(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        IReadOnlyList<double> weights)
    {
        CheckCall(teacher, student, weights, requireDetachedTeacher: false);
        return Forward(teacher, student, weights);
    }

    /// <summary>
    /// The fused backward for callers that manage gradients themselves: writes
    /// <c>gradOutput * dL/dF_S^k</c> into <paramref name="gradients"/> (same shapes as the student features).
    /// </summary>
    public void Backward(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        FeatureLossValues values, double gradOutput, IReadOnlyList<torch.Tensor> gradients)
    {
        var scales = new double[teacher.Count];
        for (int k = 0; k < scales.Length; k++) scales[k] = values.GradientScale(k, gradOutput);
        Kernels.ScaledDifferences(teacher, student, scales, gradients, new double[teacher.Count]);
    }

    /// <summary>Forward only: one read of each pair.</summary>
    internal FeatureLossValues Forward(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        IReadOnlyList<double> weights)
    {
        var errors = new double[teacher.Count];
        var norms = new double[teacher.Count];
        Kernels.FeatureSquaredSums(teacher, student, errors, norms);
        return FeatureLossValues.From(Options, weights, errors, norms);
    }

    /// <summary>
    /// Forward for training: teacher norms, then value and gradient dL/dF_S^k (for g = 1) into
    /// <paramref name="gradients"/> in one pass over each pair.
    /// </summary>
    internal FeatureLossValues ForwardWithGradients(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        IReadOnlyList<double> weights, IReadOnlyList<torch.Tensor> gradients)
    {
        var norms = new double[teacher.Count];
        var errors = new double[teacher.Count];
        Kernels.FeatureLossGradients(teacher, student, weights.ToArray(), Options, gradients, errors, norms);
        return FeatureLossValues.From(Options, weights, errors, norms);
    }

    private static void CheckCall(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student,
        IReadOnlyList<double> weights, bool requireDetachedTeacher = true)
    {
        LossInputs.Pairs(teacher, student);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != teacher.Count)
            throw new ArgumentException($"{teacher.Count} feature pairs but {weights.Count} weights");
        for (int k = 0; k < weights.Count; k++)
            if (!double.IsFinite(weights[k]))
                throw new ArgumentException($"weight {k} is {weights[k]}");
        if (!requireDetachedTeacher) return;
        for (int k = 0; k < teacher.Count; k++)
            if (teacher[k].requires_grad)
                throw new ArgumentException(
                    $"teacher feature {k} requires grad; the teacher is frozen and gets no gradient: run it under torch.no_grad() or pass .detach()");
    }

    private static FeatureLossOptions Validate(FeatureLossOptions options)
    {
        if (!(options.MinTeacherSquaredNorm > 0) || !double.IsFinite(options.MinTeacherSquaredNorm))
            throw new ArgumentException($"MinTeacherSquaredNorm must be positive and finite, got {options.MinTeacherSquaredNorm}");
        return options;
    }
}

/// <summary>The non-tensor argument of one <see cref="FeatureLossFunction"/> call; forward fills <see cref="Values"/>.</summary>
internal sealed class FeatureLossCall(FeatureDistillationLoss loss, int pairs, double[] weights, bool training)
{
    public FeatureDistillationLoss Loss { get; } = loss;
    public int Pairs { get; } = pairs;
    public double[] Weights { get; } = weights;
    /// <summary>A gradient will be asked for: the forward computes it (see <see cref="FeatureDistillationLoss.ForwardWithGradients"/>).</summary>
    public bool Training { get; } = training;
    public FeatureLossValues? Values { get; set; }
    public long[][] StudentShapes { get; set; } = [];
    public torch.Device Device { get; set; } = torch.CPU;
}
