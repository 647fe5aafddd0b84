using LaptopDiff.Runtime.Backends;
using Xunit;

namespace LaptopDiff.Runtime.Tests.Blocks;

// What the settings change (no fresh mappings for the main thread's large blocks) is measured by build/bench, not
// here: xunit runs tests on pool threads, whose own glibc arenas map blocks over 64 MiB whatever the settings.
public class HostAllocatorTests
{
    [Fact]
    public void Glibc_takes_every_setting()
    {
        Assert.Equal(OperatingSystem.IsLinux(), HostAllocator.Configure());
    }
}
