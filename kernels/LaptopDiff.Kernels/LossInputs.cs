using TorchSharp;

namespace LaptopDiff.Kernels;

/// <summary>
/// Argument checks shared by every path. Kernels cannot throw, so everything that could go wrong is
/// rejected here with a message that names the offending tensor and says what to do.
/// </summary>
internal static class LossInputs
{
    public static void RequireDenseFloat(torch.Tensor t, string what)
    {
        if (t is null || t.IsInvalid)
            throw new ArgumentException($"{what} is null or disposed");
        if (t.dtype != torch.ScalarType.Float32)
            throw new ArgumentException($"{what} is {t.dtype}; the fused kernels take float32 tensors (call .to(float32) first)");
        if (t.numel() == 0)
            throw new ArgumentException($"{what} is empty (shape {Shape(t)})");
        if (!t.is_contiguous())
            throw new ArgumentException(
                $"{what} is not contiguous (shape {Shape(t)}, strides [{string.Join(", ", t.stride())}]); " +
                "the fused kernels read the tensor's memory in order: pass t.contiguous()");
    }

    /// <summary>Checks T [B, ...] against S [A, B, ...]; returns (A, B, elements per sample).</summary>
    public static (int Ablations, int Samples, long SampleLength) Ablation(torch.Tensor teacher, torch.Tensor ablated, int sumsLength)
    {
        RequireDenseFloat(teacher, "teacher output");
        RequireDenseFloat(ablated, "ablated outputs");
        if (teacher.dim() < 1)
            throw new ArgumentException($"teacher output must be [B, ...], got a scalar");
        var t = teacher.shape;
        var s = ablated.shape;
        if (s.Length != t.Length + 1 || !s.AsSpan(1).SequenceEqual(t))
            throw new ArgumentException(
                $"ablated outputs must be [A, {string.Join(", ", t)}] (A ablations of the teacher output's shape), got {Shape(ablated)}");
        if (teacher.device_type != ablated.device_type)
            throw new ArgumentException($"teacher output is on {teacher.device}, ablated outputs on {ablated.device}");
        int a = checked((int)s[0]), b = checked((int)t[0]);
        if (sumsLength != a * b)
            throw new ArgumentException($"sums must hold A*B = {a}*{b} = {a * b} values, got {sumsLength}");
        return (a, b, teacher.numel() / b);
    }

    public static void Pairs(IReadOnlyList<torch.Tensor> teacher, IReadOnlyList<torch.Tensor> student)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        if (teacher.Count == 0)
            throw new ArgumentException("no feature pairs given");
        if (teacher.Count != student.Count)
            throw new ArgumentException($"{teacher.Count} teacher features but {student.Count} student features");
        for (int k = 0; k < teacher.Count; k++)
        {
            RequireDenseFloat(teacher[k], $"teacher feature {k}");
            RequireDenseFloat(student[k], $"student feature {k}");
            if (!teacher[k].shape.SequenceEqual(student[k].shape))
                throw new ArgumentException($"feature pair {k}: teacher is {Shape(teacher[k])}, student is {Shape(student[k])}");
            if (teacher[k].device_type != student[k].device_type)
                throw new ArgumentException($"feature pair {k}: teacher on {teacher[k].device}, student on {student[k].device}");
        }
    }

    public static void Gradients(IReadOnlyList<torch.Tensor> student, ReadOnlySpan<double> scales, IReadOnlyList<torch.Tensor> gradients)
    {
        if (scales.Length != student.Count || gradients.Count != student.Count)
            throw new ArgumentException($"{student.Count} pairs but {scales.Length} scales and {gradients.Count} gradient tensors");
        for (int k = 0; k < student.Count; k++)
        {
            RequireDenseFloat(gradients[k], $"gradient {k}");
            if (!gradients[k].shape.SequenceEqual(student[k].shape))
                throw new ArgumentException($"gradient {k} is {Shape(gradients[k])}, its student feature is {Shape(student[k])}");
            if (!double.IsFinite(scales[k]))
                throw new ArgumentException($"gradient scale {k} is {scales[k]}");
        }
    }

    public static void Outputs(int pairs, int squaredErrors, int teacherSquaredNorms)
    {
        if (squaredErrors != pairs || teacherSquaredNorms != pairs)
            throw new ArgumentException($"{pairs} pairs but output spans of {squaredErrors} and {teacherSquaredNorms}");
    }

    public static string Shape(torch.Tensor t) => $"[{string.Join(", ", t.shape)}]";
}
