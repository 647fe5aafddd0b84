using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// The starting noise of a seeded call: <c>torch.randn([N,C,h,w], generator=torch.Generator().manual_seed(seed))</c>,
/// one draw for the whole batch as diffusers' <c>prepare_latents</c> makes it. libtorch's CPU generator is PyTorch's
/// (mt19937 seeded with the seed; 24-bit uniforms; Box-Muller over blocks of 16), so on the CPU the values are the
/// ones diffusers draws for the same seed and shape. Always drawn there, then moved to <c>device</c>: a seed gives the
/// same noise on every device.
/// </summary>
public static class InitialNoise
{
    public static Tensor Draw(long seed, int batch, int channels, int height, int width, Device? device = null)
    {
        using var generator = new Generator(unchecked((ulong)seed));
        var noise = randn([batch, channels, height, width], ScalarType.Float32, generator: generator);   // [N,C,h,w]
        if (device is null || device.type == DeviceType.CPU) return noise;
        using (noise) return noise.to(device);
    }
}
