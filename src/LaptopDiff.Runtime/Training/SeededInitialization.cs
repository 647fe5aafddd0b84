using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// Seeded initial weights drawn from a private generator, so they do not depend on what else in the process
/// (another model, a test running beside this one) consumes libtorch's global generator. The distributions are
/// PyTorch's defaults: conv and linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with
/// a = sqrt(5)), embeddings N(0, 1); norms keep their ones and zeros.
/// </summary>
public static class SeededInitialization
{
    public static void Apply(nn.Module module, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(unchecked((ulong)seed));
        foreach (var (_, m) in module.named_modules())
            switch (m)
            {
                case Conv2d or Linear:
                    var weight = (Tensor)m.get_parameter("weight")!;
                    long fanIn = weight.shape.Skip(1).Aggregate(1L, (p, d) => p * d);
                    double bound = 1.0 / Math.Sqrt(fanIn);
                    Uniform(weight, bound, generator);
                    if (m.get_parameter("bias") is { } bias) Uniform(bias, bound, generator);
                    break;
                case Embedding e:
                    e.weight!.copy_(randn(e.weight.shape, generator: generator));
                    break;
            }
    }

    private static void Uniform(Tensor t, double bound, Generator generator) =>
        t.copy_((rand(t.shape, generator: generator) * 2 - 1) * bound);
}
