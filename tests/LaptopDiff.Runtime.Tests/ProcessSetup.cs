using System.Runtime.CompilerServices;
using LaptopDiff.Runtime.Backends;

namespace LaptopDiff.Runtime.Tests;

/// <summary>The tests run in the process the CLI sets up: freed tensor blocks kept on the heap (HostAllocator) and MKL
/// chosen by CPU features (MklCpuDispatch).</summary>
internal static class ProcessSetup
{
    [ModuleInitializer]
    internal static void Configure()
    {
        HostAllocator.Configure();
        MklCpuDispatch.Configure();
    }
}
