using LaptopDiff.Kernels.CudaCheck;
using System.Text.Json;

namespace LaptopDiff.Kernels.Tests;

/// <summary>The CUDA check (kernels/run-cuda-check.sh) run on ILGPU's CPU emulator, so the check
/// itself, the raw-pointer wrap and the staged tensor path are exercised without a GPU.</summary>
public sealed class DeviceCheckTests
{
    [Fact]
    public void Emulated_device_check_passes_every_kernel_check_over_both_views()
    {
        var report = DeviceCheck.Run(new DeviceCheckOptions
        {
            // few, long chunks: every group reduction costs OS-level barriers on the emulator
            UseCpuEmulator = true, Iterations = 1,
            Tuning = new KernelTuning { GroupSize = 16, ElementsPerThread = 128 },
        })!;

        Assert.True(report.Passed, report.ToText());
        Assert.Contains(report.Checks, c => c.Name == "feature sums, odd sizes x1e-30 [pointer wrap]");
        Assert.Contains(report.Checks, c => c.Name == "gradients of the training forward, odd sizes [device buffer]");
        Assert.Contains(report.Checks, c => c.Name == "squared norms, odd sizes x1e30 [pointer wrap]");
        Assert.Contains(report.Checks, c => c.Name.StartsWith("ablation sums, single element A=1 B=1 N=1"));
        Assert.Contains(report.Checks, c => c.Name.StartsWith("tensor path: feature loss gradients"));
        Assert.All(report.Checks, c => Assert.True(c.MaxRelativeError < c.Tolerance));
        Assert.Equal(["feature_loss_forward", "feature_loss_forward_backward", "ablation_sse"],
            report.Timings.Select(t => t.Kernel));
        Assert.True(report.DeviceCopyGbps > 0);

        using var json = JsonDocument.Parse(report.ToJson());
        Assert.True(json.RootElement.GetProperty("passed").GetBoolean());
        Assert.Contains("RESULT: all checks passed", report.ToText());
    }

    [Fact]
    public void Without_a_cuda_device_the_check_reports_nothing_to_run()
    {
        bool hasCuda = KernelSelectorTests.CudaPresent();
        var report = DeviceCheck.Run(new DeviceCheckOptions { IncludeTensorChecks = false, IncludeBenchmark = false, Iterations = 1 });
        Assert.Equal(hasCuda, report is not null);
    }
}
