using System.Runtime.InteropServices;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// Switches libtorch's oneDNN ("mkldnn") off for the process through <c>at::Context::setUserEnabledMkldnn(false)</c>.
/// libtorch has no C API for this switch; its C++ export is called by its Itanium-mangled name (Linux, macOS).
/// </summary>
internal static class OneDnnSwitch
{
    private const string GlobalContext = "_ZN2at13globalContextEv";
    private const string SetUserEnabledMkldnn = "_ZN2at7Context20setUserEnabledMkldnnEb";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GetContext();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetEnabled(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    /// <summary>Whether the switch was found and turned off.</summary>
    public static bool TryDisable()
    {
        foreach (var name in new[] { "libtorch_cpu.so", "libtorch_cpu.dylib" })
        {
            if (!NativeLibrary.TryLoad(name, typeof(TorchSharp.torch).Assembly, null, out var library)) continue;
            if (!NativeLibrary.TryGetExport(library, GlobalContext, out var getContext)
                || !NativeLibrary.TryGetExport(library, SetUserEnabledMkldnn, out var setEnabled)) return false;
            var context = Marshal.GetDelegateForFunctionPointer<GetContext>(getContext)();
            Marshal.GetDelegateForFunctionPointer<SetEnabled>(setEnabled)(context, false);
            return true;
        }
        return false;
    }
}
