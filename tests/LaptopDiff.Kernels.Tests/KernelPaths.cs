namespace LaptopDiff.Kernels.Tests;

/// <summary>
/// Every implementation under test, created once per test run. Small chunk sizes force the
/// multi-chunk, multi-thread and tail code paths even on the small inputs the ILGPU CPU emulator
/// can afford (about a microsecond per element).
/// </summary>
public sealed class KernelPaths : IDisposable
{
    public const string Simd = "simd";
    public const string SimdDefaultTuning = "simd-default";
    public const string IlgpuCpu = "ilgpu-cpu";
    public const string IlgpuCpuStaged = "ilgpu-cpu-staged";

    public static readonly KernelTuning SmallChunks = new()
    {
        CpuChunkElements = 64, CpuParallelThresholdElements = 0, CpuThreads = 2, CpuStreamingStoreElements = 0,
        GroupSize = 16, ElementsPerThread = 4,
    };

    private readonly Dictionary<string, ILossKernels> _kernels = new()
    {
        [Simd] = new SimdLossKernels(SmallChunks),
        [SimdDefaultTuning] = new SimdLossKernels(),
        [IlgpuCpu] = IlgpuLossKernels.CreateCpuEmulator(SmallChunks),
        [IlgpuCpuStaged] = IlgpuLossKernels.CreateCpuEmulator(SmallChunks, forceStaging: true),
    };

    public ILossKernels this[string name] => _kernels[name];

    public static TheoryData<string> All => [Simd, SimdDefaultTuning, IlgpuCpu, IlgpuCpuStaged];

    public void Dispose()
    {
        foreach (var k in _kernels.Values) k.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<KernelPaths>
{
    public const string Name = "kernels";
}
