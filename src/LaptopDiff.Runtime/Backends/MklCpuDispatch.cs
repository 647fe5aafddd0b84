using System.Runtime.InteropServices;
using TorchSharp;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// Lets the MKL built into libtorch choose its kernels by the CPU's features on every vendor. MKL asks
/// <c>mkl_serv_intel_cpu_true()</c> first and, on a CPU that is not Intel's, runs its generic SSE kernels whatever
/// the CPU supports; its <c>MKL_DEBUG_CPU_TYPE</c>, <c>MKL_CBWR</c> and <c>MKL_ENABLE_INSTRUCTIONS</c> settings do
/// not change that. On the 2-core AMD EPYC (Zen 5) development machine those kernels took 46% of a tiny-sd15 U-Net
/// training step; answering the question with "yes" for libtorch's own calls (the PLT slot <c>LD_PRELOAD</c> would
/// fill) gives MKL's AVX-512 kernels, and the step at batch 8 and 1 thread went from 249 to 156 ms (forward 82 to
/// 58 ms; build/bench/README.md). MKL still checks each instruction set it uses against the CPU's feature flags.
/// </summary>
public static unsafe class MklCpuDispatch
{
    private const string VendorCheck = "mkl_serv_intel_cpu_true";

    private static readonly Lazy<bool> Redirected = new(Redirect);

    /// <summary>Makes libtorch's vendor check answer "yes", as it does on Intel CPUs anyway; true when it does now.
    /// Call it before the first matrix product: MKL keeps the kernels it picked. It loads libtorch and reads its
    /// relocation tables (about 0.4 s), once per process. False off Linux x86-64, or where libtorch has no such call
    /// through a writable slot or its file cannot be read.</summary>
    public static bool Configure() => Redirected.Value;

    private static bool Redirect()
    {
        if (VendorCheckSlot() is not { } slot) return false;
        *(nint*)slot = (nint)(delegate* unmanaged<int>)&Yes;
        return true;
    }

    /// <summary>The address of the loaded libtorch's slot for its calls to the vendor check; null where there is none
    /// it could write (off Linux x86-64, or a slot made read-only after loading).</summary>
    internal static nint? VendorCheckSlot()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", typeof(torch).Assembly, null, out var library)
            || !NativeLibrary.TryGetExport(library, VendorCheck, out var vendorCheck)
            || Dladdr(vendorCheck, out var info) == 0 || info.FileName == IntPtr.Zero) return null;
        var path = Marshal.PtrToStringUTF8(info.FileName)!;
        try
        {
            return ElfImportSlot.Find(path, VendorCheck) is { ReadOnlyAfterLoad: false } slot
                ? info.BaseAddress + (nint)slot.Offset
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or OverflowException)
        {
            return null;   // an unreadable or unexpected library file: MKL keeps its own choice
        }
    }

    [UnmanagedCallersOnly]
    private static int Yes() => 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public IntPtr FileName;        // dli_fname
        public IntPtr BaseAddress;     // dli_fbase
        public IntPtr SymbolName;      // dli_sname
        public IntPtr SymbolAddress;   // dli_saddr
    }

    [DllImport("libc", EntryPoint = "dladdr")]
    private static extern int Dladdr(IntPtr address, out DlInfo info);
}
