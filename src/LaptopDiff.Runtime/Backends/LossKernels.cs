using LaptopDiff.Kernels;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Backends;

/// <summary>What runs the method's two hot reductions (the sweep's ablation loss, distillation's feature loss).</summary>
public enum LossImplementation
{
    /// <summary>The fused kernels on whichever path measures fastest on this machine (DESIGN "kernels/").</summary>
    Auto,
    /// <summary>The fused SIMD CPU kernels.</summary>
    Simd,
    /// <summary>The fused ILGPU kernels: CUDA when a device exists, else ILGPU's CPU emulator (slow, for verification).</summary>
    Ilgpu,
    /// <summary>The unfused TorchSharp reference.</summary>
    Torch,
}

/// <summary>
/// The runtime's choice of loss kernels: the fused ones of <c>kernels/</c> by default (<see cref="KernelSelector"/>
/// measures the candidates once and keeps the fastest), a fixed fused path, or the torch reference. The kernels' CPU
/// threads follow libtorch's (<c>torch.set_num_threads</c>), so one thread setting governs both.
/// </summary>
public static class LossKernels
{
    /// <summary>The names <see cref="Parse"/> takes, lower case, in <see cref="LossImplementation"/> order.</summary>
    public static IReadOnlyList<string> Names { get; } = Enum.GetNames<LossImplementation>().Select(n => n.ToLowerInvariant()).ToList();

    /// <exception cref="SettingException"><paramref name="value"/> is not one of <see cref="Names"/>.</exception>
    public static LossImplementation Parse(string value) =>
        Enum.TryParse<LossImplementation>(value?.Trim(), ignoreCase: true, out var choice) && Enum.IsDefined(choice) && !int.TryParse(value, out _)
            ? choice
            : throw new SettingException("Kernels", value, $"must be one of {string.Join(", ", Names)}");

    /// <summary>The fused kernels for <paramref name="choice"/>, compiled and (for Auto) measured once; null for <see cref="LossImplementation.Torch"/>. The caller disposes it.</summary>
    public static KernelSelection? Select(LossImplementation choice) => choice == LossImplementation.Torch ? null : KernelSelector.Select(new KernelSelectionOptions
    {
        Preference = choice switch
        {
            LossImplementation.Simd => KernelPreference.Simd,
            LossImplementation.Ilgpu => KernelPreference.Ilgpu,
            _ => KernelPreference.Auto,
        },
        Tuning = KernelTuning.MatchingTorch(),
    });
}
