using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// Moves a module's parameters and buffers to a device. TorchSharp 0.107's <c>Module.to(device)</c> throws on any tree
/// holding a <c>ModuleDict</c> (its two indexers are both named <c>Item</c>, and <c>to</c> maps properties by name), and
/// our stages keep their resnets and attentions in <c>ModuleDict</c>s (holes where units are removed). So the move calls
/// <c>to</c> on the largest subtrees without one; the dictionaries themselves hold no tensors.
/// </summary>
public static class ModuleDevice
{
    public static T MoveTo<T>(T module, Device device) where T : nn.Module
    {
        Move(module, device);
        return module;
    }

    private static void Move(nn.Module module, Device device)
    {
        if (!HoldsDictionary(module))
        {
            module.to(device);
            return;
        }
        if (module.named_parameters(recurse: false).Any() || module.named_buffers(recurse: false).Any())
            throw new NotSupportedException($"{module.GetType().Name} holds tensors of its own and a ModuleDict: TorchSharp cannot move it to {device}");
        foreach (var (_, child) in module.named_children()) Move(child, device);
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
