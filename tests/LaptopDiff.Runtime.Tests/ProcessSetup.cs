using System.Runtime.CompilerServices;
using LaptopDiff.Runtime.Backends;

namespace LaptopDiff.Runtime.Tests;

/// <summary>The tests run the matrix kernels the CLI runs: MKL chosen by CPU features (see MklCpuDispatch).</summary>
internal static class ProcessSetup
{
    [ModuleInitializer]
    internal static void Configure() => MklCpuDispatch.Configure();
}
