using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// Moves a module's parameters and buffers to a device or casts them to a dtype, and tells where they are. TorchSharp 0.107's <c>Module.to</c> throws on any tree
/// holding a <c>ModuleDict</c> (its two indexers are both named <c>Item</c>, and <c>to</c> maps properties by name), and
/// our stages keep their resnets and attentions in <c>ModuleDict</c>s (holes where units are removed). So the move calls
/// <c>to</c> on the largest subtrees without one; the dictionaries themselves hold no tensors.
/// </summary>
public static class ModuleDevice
{
    public static T MoveTo<T>(T module, Device device) where T : nn.Module
    {
        Apply(module, m => m.to(device), device.ToString());
        return module;
    }

    /// <summary>Where a module's weights live (its first parameter's device): its inputs go there.</summary>
    public static Device Of(nn.Module module) => module.parameters().First().device;

    /// <summary>Casts the floating-point parameters and buffers to <paramref name="dtype"/> (e.g. a bfloat16 frozen teacher).</summary>
    public static T ToType<T>(T module, ScalarType dtype) where T : nn.Module
    {
        Apply(module, m => m.to(dtype), dtype.ToString());
        return module;
    }

    private static void Apply(nn.Module module, Action<nn.Module> to, string target)
    {
        if (!HoldsDictionary(module))
        {
            to(module);
            return;
        }
        if (module.named_parameters(recurse: false).Any() || module.named_buffers(recurse: false).Any())
            throw new NotSupportedException($"{module.GetType().Name} holds tensors of its own and a ModuleDict: TorchSharp cannot move it to {target}");
        foreach (var (_, child) in module.named_children()) Apply(child, to, target);
    }

    private static bool HoldsDictionary(nn.Module module) =>
        IsDictionary(module) || module.named_children().Any(c => HoldsDictionary(c.module));

    private static bool IsDictionary(nn.Module module)
    {
        for (var t = module.GetType(); t != null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ModuleDict<>)) return true;
        return false;
    }
}
