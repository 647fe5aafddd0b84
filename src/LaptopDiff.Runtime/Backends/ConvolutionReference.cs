using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// Seeded inputs of one convolution signature and their output and gradients computed in float64 (which never
/// takes the oneDNN path; kept rounded to float32, far below the tolerance), against which a float32 form is
/// checked: output, input gradient, weight gradient and bias gradient. Batch 2 (libtorch sends a 3x3 convolution
/// of batch 1 and a small image to its native kernel), at 4x4 or the smallest valid size: on the CPU this guards
/// against, the wrong kernels were wrong at every size tried from 4 to 128 (stride-2 ones at more sizes below 64
/// than above), so the smallest size is the cheapest and strictest. Each form runs first with one thread, where
/// those kernels were wrong every time (with two, some were right by chance), then, if right, with the caller's
/// thread count, which may pick other kernels. Its tensors belong to the caller's dispose scope.
/// </summary>
internal sealed class ConvolutionReference
{
    private const long Batch = 2;
    private const long Size = 4;

    private readonly Tensor[] inputs;    // x, weight (and bias): float32 leaves
    private readonly Tensor gradOut;
    private readonly (Tensor Value, double Scale)[] expected;   // output, then the gradient of each input

    public ConvolutionReference(ConvolutionSignature signature)
    {
        using var inference = inference_mode(false);
        using var grad = enable_grad();
        var generator = new Generator(20261206);
        Tensor Uniform(params long[] shape) => empty(shape).uniform_(-1, 1, generator);
        long height = Math.Max(Size, signature.MinimumHeight), width = Math.Max(Size, signature.MinimumWidth);
        inputs = new[]
        {
            Uniform(Batch, signature.InChannels, height, width),
            Uniform(signature.OutChannels, signature.InChannels / signature.Groups, signature.KernelHeight, signature.KernelWidth),
            signature.HasBias ? Uniform(signature.OutChannels) : null,
        }.OfType<Tensor>().Select(t => t.requires_grad_(true)).ToArray();

        var inputs64 = inputs.Select(t => t.detach().to_type(ScalarType.Float64).requires_grad_(true)).ToArray();
        var y64 = ConvolutionPlan.Plain(signature).Compute(inputs64[0], inputs64[1], inputs64.ElementAtOrDefault(2));
        gradOut = Uniform(y64.shape);
        var grads64 = autograd.grad([y64], inputs64, [gradOut.to_type(ScalarType.Float64)]);
        expected = grads64.Prepend(y64.detach()).Select(t => t.to_type(ScalarType.Float32)).Select(t => (t, MaxAbs(t))).ToArray();
    }

    /// <summary>
    /// The worst relative L-infinity error of <paramref name="form"/> (NaN counts as infinite): with one thread, and
    /// when that is below <paramref name="tolerance"/> also with the caller's thread count.
    /// </summary>
    public double ErrorOf(ConvolutionPlan form, double tolerance)
    {
        int threads = get_num_threads();
        try
        {
            set_num_threads(1);
            double error = ErrorOnce(form);
            if (threads == 1 || error > tolerance) return error;
            set_num_threads(threads);
            return Math.Max(error, ErrorOnce(form));
        }
        finally { set_num_threads(threads); }
    }

    private double ErrorOnce(ConvolutionPlan form)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode(false);
        using var grad = enable_grad();
        var y = form.Compute(inputs[0], inputs[1], inputs.ElementAtOrDefault(2));
        var actual = autograd.grad([y], inputs, [gradOut]).Prepend(y.detach());
        return actual.Zip(expected, (a, e) => RelativeError(a, e.Value, e.Scale)).Max();
    }

    private static double RelativeError(Tensor actual, Tensor expected, double scale)
    {
        using var difference = actual - expected;
        double error = MaxAbs(difference.abs_()) / Math.Max(scale, 1e-30);
        return double.IsNaN(error) ? double.PositiveInfinity : error;
    }

    private static double MaxAbs(Tensor t)
    {
        using var abs = t.abs();
        using var max = abs.max();
        return max.item<float>();
    }
}
