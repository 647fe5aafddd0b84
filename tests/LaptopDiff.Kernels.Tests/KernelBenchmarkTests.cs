using System.Text.Json;

namespace LaptopDiff.Kernels.Tests;

public sealed class KernelBenchmarkTests
{
    [Fact]
    public void Report_json_has_copy_bandwidth_and_one_result_per_kernel_shape_and_path()
    {
        var report = KernelBenchmark.Run(new KernelBenchmarkOptions
        {
            FeatureShapes = [new BenchmarkShapes("tiny", [[2, 3, 5], [7]])],
            AblationShapes = [new BenchmarkShapes("tiny-output", [[2, 17]])],
            Ablations = 3,
            Paths = [KernelPath.Simd, KernelPath.IlgpuCpu],
            Tuning = new KernelTuning { GroupSize = 16, ElementsPerThread = 4 },
            WarmupIterations = 1,
            Iterations = 3,
            CopyBytes = 4 << 20,
        });

        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.True(root.GetProperty("copy_gbps").GetDouble() > 0);
        var results = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(6, results.Count);   // (ablation + forward + forward/backward) x (simd, ilgpu-cpu)
        var kernels = results.Select(r => r.GetProperty("kernel").GetString()).Distinct().Order().ToList();
        Assert.Equal(["ablation_sse", "feature_loss_forward", "feature_loss_forward_backward"], kernels);
        Assert.Equal(["ilgpu-cpu", "simd"], results.Select(r => r.GetProperty("path").GetString()).Distinct().Order());
        foreach (var r in results)
        {
            double ms = r.GetProperty("ms").GetDouble(), baseline = r.GetProperty("baseline_ms").GetDouble();
            Assert.True(ms > 0 && baseline > 0 && r.GetProperty("gbps").GetDouble() > 0);
            Assert.Equal(baseline / ms, r.GetProperty("speedup").GetDouble(), 0.01 * baseline / ms);
        }
        Assert.Contains("tiny 2x3x5 + 7", results.Select(r => r.GetProperty("shape").GetString()));
        Assert.Contains("tiny-output 2x17 A=3", results.Select(r => r.GetProperty("shape").GetString()));
        Assert.Contains(report.Notes, n => n.StartsWith("ilgpu-cpu is ILGPU's CPU emulator"));
    }

    [Fact]
    public void Cuda_path_is_timed_where_present_and_skipped_with_a_note_elsewhere()
    {
        bool hasCuda = KernelSelectorTests.CudaPresent();
        var report = KernelBenchmark.Run(new KernelBenchmarkOptions
        {
            FeatureShapes = [], AblationShapes = [new BenchmarkShapes("tiny-output", [[1, 8]])],
            Paths = [KernelPath.IlgpuCuda], Iterations = 1, WarmupIterations = 0, CopyBytes = 1 << 20,
        });
        if (hasCuda)
            Assert.Equal("ilgpu-cuda", Assert.Single(report.Results).Path);
        else
        {
            Assert.Empty(report.Results);
            Assert.Equal(["ilgpu-cuda: not available on this machine, skipped"], report.Notes);
        }
    }
}
