using System.Collections.Concurrent;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>What the convolution checks of this process found and did so far.</summary>
/// <param name="OneDnnCorrect">oneDNN ("mkldnn") passed the process-wide probe: every convolution runs plainly, unchecked.</param>
/// <param name="MaxRelativeError">The probe's worst relative L-infinity error against float64.</param>
/// <param name="Detail">Which probe shape failed and how; empty when all matched.</param>
/// <param name="ShapesChecked">Convolution signatures checked one by one so far (only after a failed probe).</param>
/// <param name="ShapesPadded">Of those, the signatures that run in a channel-padded form.</param>
/// <param name="ShapesWithoutCorrectForm">Signatures for which no oneDNN form was correct.</param>
/// <param name="FallbackApplied">oneDNN was switched off for the process because of those: libtorch's native convolution runs.</param>
public sealed record ConvolutionCheck(
    bool OneDnnCorrect, double MaxRelativeError, string Detail,
    int ShapesChecked, int ShapesPadded, int ShapesWithoutCorrectForm, bool FallbackApplied);

/// <summary>
/// Runs every convolution of the runtime, correct and fast on CPUs where oneDNN's float32 convolution kernels
/// return wrong values. Seen on an AMD Zen 5 (family 26) virtual machine with libtorch 2.10, off by order 1 or NaN:
/// the output of 3x3 convolutions with more than 16 input channels not a multiple of 16; the input gradient of 3x3
/// convolutions whose output channels are not a multiple of 16 (every U-Net's <c>conv_out</c>); the input gradient
/// of stride-2 convolutions with more than 16 input channels not a multiple of 32. Channel counts that are multiples
/// of those route to kernels that are right; 1x1 convolutions and weight gradients were right throughout.
/// <para>
/// A process-wide probe runs three such shapes once against float64 (about 70 ms of CPU with one thread, 200 with
/// two, mostly oneDNN generating kernels). Where oneDNN passes (most machines), every convolution runs as the
/// module's own call and no shape is checked. Where it fails, each convolution signature gets a
/// <see cref="ConvolutionPlan"/> on first use: the plain form, then forms with the input and/or output channels
/// zero-padded to multiples of 16, 32 or 64 (fewest multiply-adds first), each checked against float64
/// (<see cref="ConvolutionReference"/>); the first correct one is kept. Only when none is correct is oneDNN
/// switched off for the process (libtorch's native convolution: correct, but 2.5 to 17 times slower).
/// </para>
/// </summary>
public static class ConvolutionBackend
{
    // float32 against float64 stays near 1e-6 even over 2560x3x3 inputs; the wrong kernels are off by 1e-2 or more
    private const double Tolerance = 1e-4;
    private static readonly long[] ChannelMultiples = [16, 32, 64];
    private static readonly ConvolutionSignature[] ProbeShapes =
    [
        ConvolutionSignature.Square(24, 16, 3, padding: 1),            // forward: input channels not a multiple of 16
        ConvolutionSignature.Square(32, 4, 3, padding: 1),             // input gradient: few output channels
        ConvolutionSignature.Square(48, 16, 3, stride: 2, padding: 1), // stride-2 input gradient: 3 x 16 input channels
    ];

    private sealed record ProbeResult(bool Correct, double MaxRelativeError, string Detail);

    private static readonly Lazy<ProbeResult> ProcessProbe = new(RunProbe, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<ConvolutionSignature, Lazy<ConvolutionPlan>> Plans = new();
    // Checks set the calling thread's torch thread count and may switch oneDNN off: one at a time.
    private static readonly object CheckLock = new();
    private static volatile bool fallbackApplied;

    /// <summary><paramref name="conv"/> applied to <paramref name="x"/> [B,C,H,W] in its signature's plan (float32 CPU tensors; others plainly).</summary>
    public static Tensor Conv2d(Conv2d conv, Tensor x) =>
        x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32
            ? PlanFor(ConvolutionSignature.Of(conv)).Run(conv, x)
            : conv.forward(x);

    /// <summary>The plan of <paramref name="signature"/>: made (and checked, after a failed probe) on first use, then the same object.</summary>
    public static ConvolutionPlan PlanFor(ConvolutionSignature signature) =>
        Plans.GetOrAdd(signature, s => new Lazy<ConvolutionPlan>(() => MakePlan(s), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>The plans made in this process so far.</summary>
    public static IReadOnlyList<ConvolutionPlan> PlansMade =>
        Plans.Values.Where(plan => plan.IsValueCreated).Select(plan => plan.Value).ToList();

    /// <summary>The probe's result (running it on first use) and what the plans did so far.</summary>
    public static ConvolutionCheck Check()
    {
        _ = ProcessProbe.Value;
        return Summary();
    }

    /// <summary>As <see cref="Check"/> when the probe has run in this process, else null (asking does not run it).</summary>
    public static ConvolutionCheck? Checked => ProcessProbe.IsValueCreated ? Summary() : null;

    private static ConvolutionCheck Summary()
    {
        var probe = ProcessProbe.Value;
        var checkedPlans = PlansMade.Where(plan => plan.MaxRelativeError is not null).ToList();
        return new ConvolutionCheck(probe.Correct, probe.MaxRelativeError, probe.Detail, checkedPlans.Count,
            checkedPlans.Count(plan => plan.IsPadded), checkedPlans.Count(plan => plan.NeedsNative), fallbackApplied);
    }

    private static ProbeResult RunProbe()
    {
        lock (CheckLock)
        {
            using var scope = NewDisposeScope();
            var (shape, error) = ProbeShapes
                .Select(s => (Shape: s, Error: new ConvolutionReference(s).ErrorOf(ConvolutionPlan.Plain(s), Tolerance)))
                .MaxBy(probe => probe.Error);
            return error <= Tolerance
                ? new ProbeResult(true, error, "")
                : new ProbeResult(false, error, FormattableString.Invariant($"{shape}: {Describe(error)} in its output or gradients"));
        }
    }

    private static ConvolutionPlan MakePlan(ConvolutionSignature signature)
    {
        if (ProcessProbe.Value.Correct) return ConvolutionPlan.Plain(signature);
        lock (CheckLock)
        {
            if (fallbackApplied) return ConvolutionPlan.Plain(signature);   // native everywhere now
            using var scope = NewDisposeScope();
            var reference = new ConvolutionReference(signature);
            foreach (var form in Forms(signature))
            {
                double error = reference.ErrorOf(form, Tolerance);
                if (error <= Tolerance) return form with { MaxRelativeError = error };
            }
            fallbackApplied = OneDnnSwitch.TryDisable();
            var plain = ConvolutionPlan.Plain(signature);
            return plain with { MaxRelativeError = reference.ErrorOf(plain, Tolerance), NeedsNative = true };
        }
    }

    /// <summary>The plain form, then the channel-padded ones, fewest multiply-adds first and unpadded input before padded.</summary>
    private static IEnumerable<ConvolutionPlan> Forms(ConvolutionSignature signature)
    {
        var plain = ConvolutionPlan.Plain(signature);
        if (signature.Groups != 1) return [plain];
        var inChannels = ChannelMultiples.Select(m => RoundUp(signature.InChannels, m)).Prepend(signature.InChannels).Distinct();
        var outChannels = ChannelMultiples.Select(m => RoundUp(signature.OutChannels, m)).Prepend(signature.OutChannels).Distinct().ToList();
        return from i in inChannels
               from o in outChannels
               orderby i * o, i
               select plain with { InChannels = i, OutChannels = o };
    }

    private static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;

    private static string Describe(double error) =>
        double.IsPositiveInfinity(error) ? "NaN or infinite values" : FormattableString.Invariant($"relative error {error:G3}");
}
