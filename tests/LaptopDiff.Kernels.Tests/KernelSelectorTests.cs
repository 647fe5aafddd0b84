namespace LaptopDiff.Kernels.Tests;

public sealed class KernelSelectorTests
{
    [Fact]
    public void Configuration_override_skips_calibration()
    {
        using var selection = KernelSelector.Select(new KernelSelectionOptions { Preference = KernelPreference.Simd });
        Assert.Equal(KernelPath.Simd, selection.Kernels.Path);
        Assert.Equal("configured: simd", selection.Reason);
        Assert.Empty(selection.Timings);
        Assert.StartsWith("kernels: simd (CPU, ", selection.ToString());
    }

    [Fact]
    public void Ilgpu_preference_uses_cuda_or_says_it_fell_back_to_the_emulator()
    {
        bool hasCuda = CudaPresent();
        using var selection = KernelSelector.Select(new KernelSelectionOptions { Preference = KernelPreference.Ilgpu });
        Assert.Equal(hasCuda ? KernelPath.IlgpuCuda : KernelPath.IlgpuCpu, selection.Kernels.Path);
        Assert.Contains(hasCuda ? "CUDA device found" : "no CUDA device", selection.Reason);
    }

    [Fact]
    public void Auto_measures_every_candidate_and_keeps_the_fastest()
    {
        using var selection = KernelSelector.Select(new KernelSelectionOptions
        {
            // long chunks: each emulated group reduction costs OS-level barriers
            CalibrateCpuEmulator = true, CalibrationElements = 4096, CalibrationRepeats = 3,
            Tuning = new KernelTuning { ElementsPerThread = 256 },
        });
        Assert.Contains(selection.Timings, t => t.Path == KernelPath.Simd);
        Assert.Contains(selection.Timings, t => t.Path == KernelPath.IlgpuCpu);
        Assert.All(selection.Timings, t => Assert.True(t.Milliseconds > 0));
        var fastest = selection.Timings.MinBy(t => t.Milliseconds)!;
        Assert.Equal(fastest.Path, selection.Kernels.Path);
        Assert.StartsWith("auto: fastest on calibration (simd ", selection.Reason);
        // the emulator runs one OS thread per GPU thread; it must never win against the SIMD loops
        Assert.Equal(KernelPath.Simd, selection.Kernels.Path);
    }

    [Theory]
    [InlineData("auto", KernelPreference.Auto), InlineData("SIMD", KernelPreference.Simd), InlineData(" ilgpu ", KernelPreference.Ilgpu)]
    public void Parses_configuration_values(string text, KernelPreference expected) =>
        Assert.Equal(expected, KernelSelectionOptions.ParsePreference(text));

    [Fact]
    public void Rejects_unknown_configuration_values()
    {
        var e = Assert.Throws<ArgumentException>(() => KernelSelectionOptions.ParsePreference("gpu"));
        Assert.Equal("unknown kernel preference 'gpu'; expected auto, simd or ilgpu", e.Message);
        Assert.Throws<ArgumentException>(() => KernelSelectionOptions.ParsePreference("7"));
    }

    internal static bool CudaPresent()
    {
        using var cuda = IlgpuLossKernels.TryCreateCuda();
        return cuda is not null;
    }
}
