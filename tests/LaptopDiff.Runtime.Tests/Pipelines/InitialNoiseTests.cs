using LaptopDiff.Runtime.Pipelines;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>
/// The seeded starting noise against PyTorch's CPU normal sampler written out by hand: mt19937 seeded with the seed,
/// 24-bit uniforms, and for a float tensor of 16 or more elements Box-Muller over blocks of 16 (u1 from the first
/// 8, u2 from the next 8), the last block redrawn when the size is not a multiple of 16. Equal values mean
/// <c>--seed S</c> gives what <c>torch.randn(shape, generator=torch.Generator().manual_seed(S))</c> gives in diffusers.
/// </summary>
public sealed class InitialNoiseTests
{
    [Theory]
    [InlineData(0, 1, 4, 8, 8)]          // the fixture loops' shape: 256 values, whole blocks
    [InlineData(42, 2, 4, 8, 8)]         // two prompts: one draw for the batch
    [InlineData(7, 1, 4, 5, 5)]          // 100 values: the last block of 16 is redrawn
    public void Noise_equals_pytorchs_cpu_normal_sampler(long seed, int batch, int channels, int height, int width)
    {
        using var noise = InitialNoise.Draw(seed, batch, channels, height, width);
        var expected = TorchCpuNormal((uint)seed, batch * channels * height * width);

        Assert.Equal(new long[] { batch, channels, height, width }, noise.shape);
        var actual = noise.data<float>().ToArray();
        double maxError = actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        // libtorch may take its AVX2 path, whose vectorised log/sin/cos differ from libm in the last bits
        Assert.InRange(maxError, 0, 2e-6);
    }

    [Fact]
    public void Small_tensors_use_the_serial_sampler_pytorch_documents()
    {
        // torch.manual_seed(0); torch.randn(2, 3): the values PyTorch's documentation and tutorials print
        using var generator = new Generator(0);
        using var small = randn([2, 3], generator: generator);
        float[] documented = [1.5410f, -0.2934f, -2.1788f, 0.5684f, -1.0845f, -1.3986f];
        Assert.All(small.data<float>().ToArray().Zip(documented), p => Assert.Equal(p.Second, p.First, 4));
    }

    /// <summary>aten's <c>normal_fill</c> (mean 0, std 1) in float arithmetic.</summary>
    private static float[] TorchCpuNormal(uint seed, int size)
    {
        var engine = new Mt19937(seed);
        var data = new float[size];
        for (int i = 0; i < size; i++) data[i] = engine.NextUniformFloat();
        for (int i = 0; i + 16 <= size; i += 16) Fill16(data.AsSpan(i, 16));
        if (size % 16 != 0)
        {
            var tail = data.AsSpan(size - 16, 16);
            for (int i = 0; i < 16; i++) tail[i] = engine.NextUniformFloat();
            Fill16(tail);
        }
        return data;
    }

    private static void Fill16(Span<float> block)
    {
        for (int j = 0; j < 8; j++)
        {
            float u1 = 1 - block[j], u2 = block[j + 8];
            float radius = MathF.Sqrt(-2 * MathF.Log(u1));
            float theta = 2.0f * (float)Math.PI * u2;
            block[j] = radius * MathF.Cos(theta);
            block[j + 8] = radius * MathF.Sin(theta);
        }
    }

    /// <summary>The 32-bit Mersenne Twister (std::mt19937, at::mt19937).</summary>
    private sealed class Mt19937
    {
        private readonly uint[] _state = new uint[624];
        private int _index = 624;

        public Mt19937(uint seed)
        {
            _state[0] = seed;
            for (int i = 1; i < 624; i++) _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        }

        // at::uniform_real_distribution<float>: the low 24 bits of one draw over 2^24
        public float NextUniformFloat() => (float)((Next() & 0xFFFFFF) / (double)(1 << 24));

        private uint Next()
        {
            if (_index >= 624) Twist();
            uint y = _state[_index++];
            y ^= y >> 11;
            y ^= (y << 7) & 0x9D2C5680u;
            y ^= (y << 15) & 0xEFC60000u;
            return y ^ (y >> 18);
        }

        private void Twist()
        {
            for (int i = 0; i < 624; i++)
            {
                uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % 624] & 0x7FFFFFFFu);
                _state[i] = _state[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908B0DFu : 0);
            }
            _index = 0;
        }
    }
}
