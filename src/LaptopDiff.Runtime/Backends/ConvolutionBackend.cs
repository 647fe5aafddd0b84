using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>What the once-per-process convolution check found and did.</summary>
/// <param name="OneDnnCorrect">Whether libtorch's oneDNN ("mkldnn") convolutions matched the float64 reference.</param>
/// <param name="MaxRelativeError">The worst relative L-infinity error of the probes against float64.</param>
/// <param name="FallbackApplied">oneDNN miscomputed and was switched off: libtorch's native convolution runs instead.</param>
/// <param name="Detail">Which probe failed and how; empty when all matched.</param>
public sealed record ConvolutionCheck(bool OneDnnCorrect, double MaxRelativeError, bool FallbackApplied, string Detail);

/// <summary>
/// Guards against a CPU on which oneDNN's float32 convolution kernels return wrong values. Seen on an AMD
/// Zen 5 (family 26) virtual machine with libtorch 2.10: 3x3 convolutions whose input channels are not a
/// multiple of 16 (of 8 with oneDNN capped at AVX2) give errors of order 1 and sporadic NaN, and the input
/// gradient of convolutions with few output channels (every U-Net's <c>conv_out</c>) is wrong; only the
/// SSE4.1 kernels and libtorch's own convolution are right there. The check runs both failure shapes
/// once against a float64 reference (which never takes the oneDNN path) and, where they disagree,
/// switches oneDNN off for the process through <c>at::Context::setUserEnabledMkldnn(false)</c>:
/// correct and slower. Every block constructor runs it (through <c>Ops</c>), so no module computes
/// before it has run.
/// </summary>
public static class ConvolutionBackend
{
    private const double Tolerance = 1e-3;
    private static readonly Lazy<ConvolutionCheck> Result = new(Run, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The check's result; runs it (about 10 ms) on first use.</summary>
    public static ConvolutionCheck EnsureCorrect() => Result.Value;

    /// <summary>The result when the check has run in this process, else null (asking does not run it).</summary>
    public static ConvolutionCheck? Checked => Result.IsValueCreated ? Result.Value : null;

    private static ConvolutionCheck Run()
    {
        var (error, detail) = Probe();
        if (error <= Tolerance) return new ConvolutionCheck(true, error, false, "");
        bool applied = OneDnnSwitch.TryDisable();
        if (applied)
        {
            var (after, afterDetail) = Probe();
            if (after > Tolerance)
                return new ConvolutionCheck(false, error, true, $"{detail}; still wrong with oneDNN off: {afterDetail}");
        }
        return new ConvolutionCheck(false, error, applied, detail);
    }

    /// <summary>The two shapes that fail: a forward with 24 input channels and an input gradient with 4 output channels.</summary>
    private static (double Error, string Detail) Probe()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode(false);
        using var grad = enable_grad();
        var generator = new Generator(20261206);
        var forward = ForwardError(randn(new long[] { 2, 24, 8, 8 }, generator: generator), randn(new long[] { 16, 24, 3, 3 }, generator: generator));
        var backward = InputGradientError(randn(new long[] { 2, 32, 8, 8 }, generator: generator), randn(new long[] { 4, 32, 3, 3 }, generator: generator));
        return forward >= backward
            ? (forward, forward > Tolerance ? $"3x3 convolution 24->16 channels: relative error {forward:G3}" : "")
            : (backward, $"input gradient of a 3x3 convolution 32->4 channels: relative error {backward:G3}");
    }

    private static double ForwardError(Tensor x, Tensor w)
    {
        var y = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
        var reference = nn.functional.conv2d(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64), padding: new long[] { 1, 1 });
        return RelativeError(y, reference);
    }

    private static double InputGradientError(Tensor x, Tensor w)
    {
        var x32 = x.clone().requires_grad_(true);
        nn.functional.conv2d(x32, w, padding: new long[] { 1, 1 }).square().sum().backward();
        var x64 = x.to_type(ScalarType.Float64).requires_grad_(true);
        nn.functional.conv2d(x64, w.to_type(ScalarType.Float64), padding: new long[] { 1, 1 }).square().sum().backward();
        return RelativeError(x32.grad!, x64.grad!);
    }

    // NaN counts as infinitely wrong.
    private static double RelativeError(Tensor actual, Tensor reference)
    {
        double diff = (actual.to_type(ScalarType.Float64) - reference).abs().max().item<double>();
        double scale = reference.abs().max().item<double>();
        double error = diff / Math.Max(scale, 1e-30);
        return double.IsNaN(error) ? double.PositiveInfinity : error;
    }

    /// <summary>libtorch has no C API for this switch; its C++ export is called by its Itanium-mangled name (Linux, macOS).</summary>
    private static class OneDnnSwitch
    {
        private const string GlobalContext = "_ZN2at13globalContextEv";
        private const string SetUserEnabledMkldnn = "_ZN2at7Context20setUserEnabledMkldnnEb";

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate IntPtr GetContext();

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate void SetEnabled(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

        public static bool TryDisable()
        {
            foreach (var name in new[] { "libtorch_cpu.so", "libtorch_cpu.dylib" })
            {
                if (!NativeLibrary.TryLoad(name, typeof(TorchSharp.torch).Assembly, null, out var library)) continue;
                if (!NativeLibrary.TryGetExport(library, GlobalContext, out var getContext)
                    || !NativeLibrary.TryGetExport(library, SetUserEnabledMkldnn, out var setEnabled)) return false;
                var context = Marshal.GetDelegateForFunctionPointer<GetContext>(getContext)();
                Marshal.GetDelegateForFunctionPointer<SetEnabled>(setEnabled)(context, false);
                return true;
            }
            return false;
        }
    }
}
